import type { StorageConnection } from '../storage/connection';
import type { QueueClient } from '@azure/storage-queue';
import { queueClientFor, statusOf } from '../storage/clients';
import { encodeQueueMessage, maxQueueMessageLength } from './message';

/**
 * How long sending may take in all, retries included. The SDK's per-try timeout does not bound a
 * storage service that accepts connections and never answers; a sender waiting on intake needs an
 * answer (503, so it retries) well within its own timeout.
 */
const sendDeadlineMs = 10_000;

/** The message could not be put on the queue: the caller should try again later. */
export class StorageUnavailableError extends Error {
    constructor(queueName: string, cause: unknown) {
        super(`The queue "${queueName}" cannot be reached.`, { cause });
        this.name = 'StorageUnavailableError';
    }
}

/** The value does not fit in one queue message. */
export class MessageTooLargeError extends Error {
    constructor(
        readonly encodedLength: number,
        readonly limit = maxQueueMessageLength,
    ) {
        super(`The lead takes ${encodedLength} bytes as a queue message; at most ${limit} fit.`);
        this.name = 'MessageTooLargeError';
    }
}

/**
 * A storage queue of JSON values, base64-encoded as the Functions queue trigger expects. Messages
 * never expire: a lead waiting in a queue, or in its poison queue, is kept until it is handled.
 */
export class JsonQueue {
    private ready: Promise<unknown> | undefined;

    constructor(private readonly client: QueueClient) {}

    static async connect(connection: StorageConnection | string, queueName: string): Promise<JsonQueue> {
        return new JsonQueue(await queueClientFor(connection, queueName));
    }

    get name(): string {
        return this.client.name;
    }

    /**
     * Resolves once the value is stored; throws MessageTooLargeError or StorageUnavailableError.
     * `reserve` bytes of the message limit are kept free, for what later copies of the value add.
     */
    async send(value: unknown, options: { delaySeconds?: number; reserve?: number } = {}): Promise<void> {
        const message = encodeQueueMessage(value);
        const limit = maxQueueMessageLength - (options.reserve ?? 0);
        if (message.length > limit) throw new MessageTooLargeError(message.length, limit);
        const abortSignal = AbortSignal.timeout(sendDeadlineMs);
        const sendOptions = { messageTimeToLive: -1, visibilityTimeout: Math.round(options.delaySeconds ?? 0), abortSignal };
        try {
            await this.ensureQueue(abortSignal);
            await this.client.sendMessage(message, sendOptions).catch(async (error: unknown) => {
                if (statusOf(error) !== 404) throw error;
                // Someone deleted the queue while the app ran: make it again and retry once.
                this.ready = undefined;
                await this.ensureQueue(abortSignal);
                await this.client.sendMessage(message, sendOptions);
            });
        } catch (error) {
            throw new StorageUnavailableError(this.name, error);
        }
    }

    private ensureQueue(abortSignal: AbortSignal): Promise<unknown> {
        this.ready ??= this.client.createIfNotExists({ abortSignal }).catch((error: unknown) => {
            this.ready = undefined;
            throw error;
        });
        return this.ready;
    }
}
