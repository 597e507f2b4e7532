import type { QueueClient } from '@azure/storage-queue';
import type { Lead } from '../lead/lead';
import { queueClientFor } from '../storage/clients';
import { encodeQueueMessage, maxQueueMessageLength } from './message';

/** The lead could not be put on the queue: the sender should try again later. */
export class StorageUnavailableError extends Error {
    constructor(cause: unknown) {
        super('The lead queue cannot be reached.', { cause });
        this.name = 'StorageUnavailableError';
    }
}

/** The normalised lead does not fit in one queue message. */
export class LeadTooLargeError extends Error {
    constructor(readonly encodedLength: number) {
        super(`The lead takes ${encodedLength} bytes as a queue message; at most ${maxQueueMessageLength} fit.`);
        this.name = 'LeadTooLargeError';
    }
}

function statusOf(error: unknown): number | undefined {
    return (error as { statusCode?: number } | null)?.statusCode;
}

/** Puts leads on the storage queue the delivery function reads, creating the queue once if needed. */
export class LeadQueue {
    private ready: Promise<void> | undefined;

    constructor(private readonly client: QueueClient) {}

    static async connect(connection: string, queueName: string): Promise<LeadQueue> {
        return new LeadQueue(await queueClientFor(connection, queueName));
    }

    /** Resolves once the lead is stored; throws LeadTooLargeError or StorageUnavailableError. */
    async send(lead: Lead): Promise<void> {
        const message = encodeQueueMessage(lead);
        if (message.length > maxQueueMessageLength) throw new LeadTooLargeError(message.length);
        try {
            await this.ensureQueue();
            await this.sendOnce(message);
        } catch (error) {
            throw new StorageUnavailableError(error);
        }
    }

    private async sendOnce(message: string): Promise<void> {
        try {
            await this.client.sendMessage(message);
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
            // Someone deleted the queue while the app ran: make it again and retry once.
            this.ready = undefined;
            await this.ensureQueue();
            await this.client.sendMessage(message);
        }
    }

    private ensureQueue(): Promise<void> {
        this.ready ??= this.client.createIfNotExists().then(
            () => undefined,
            (error: unknown) => {
                this.ready = undefined;
                throw error;
            },
        );
        return this.ready;
    }
}
