import { setTimeout as sleep } from 'node:timers/promises';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import type { QueueFunctionDefinition } from '../runtime/define';
import { lazy } from '../runtime/lazy';
import type { QueuesConfig } from './hostConfig';
import { invoke } from './invoke';
import { hostLog } from './log';

/** How long a received message stays invisible while its function runs; renewed at half-time. */
const leaseSeconds = 60;
const minPollingMs = 100;

export interface QueueListenerOptions {
    definition: QueueFunctionDefinition;
    queue: QueueClient;
    poisonQueue: QueueClient;
    config: QueuesConfig;
    functionTimeoutMs: number;
}

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

/** The trigger value as the Node.js worker hands it over: the parsed JSON, or else the text. */
function triggerValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/**
 * Runs a queue-triggered function with the semantics of the Functions queue extension: batches of
 * `batchSize`, a new batch when in-flight work falls to `newBatchThreshold`, polling that backs off
 * to `maxPollingInterval`, a failed message made visible again after `visibilityTimeout`, and after
 * `maxDequeueCount` failed attempts the message moved, unchanged, to `<queue>-poison`.
 */
export class QueueListener {
    private running = false;
    private loop: Promise<void> | undefined;
    private readonly inFlight = new Set<Promise<void>>();
    private readonly stopped = new AbortController();
    private readonly ensurePoisonQueue = lazy(() => this.options.poisonQueue.createIfNotExists());

    constructor(private readonly options: QueueListenerOptions) {}

    get name(): string {
        return this.options.definition.name;
    }

    start(): void {
        this.running = true;
        this.loop = this.poll();
    }

    /** Stops receiving and waits, up to `graceMs`, for the messages in hand. */
    async stop(graceMs = 10_000): Promise<void> {
        this.running = false;
        this.stopped.abort();
        await this.loop;
        await Promise.race([Promise.allSettled([...this.inFlight]), sleep(graceMs, undefined, { ref: false })]);
    }

    /** Runs the function once on a given value, as the admin API does, outside the queue. */
    runNow(input: unknown): Promise<unknown> {
        return invoke(this.options.definition.options.handler, typeof input === 'string' ? triggerValue(input) : input, {
            functionName: this.name,
            trigger: { type: 'queueTrigger', name: 'queueItem' },
            reason: 'This function was programmatically called via the host APIs.',
            timeoutMs: this.options.functionTimeoutMs,
        });
    }

    private async poll(): Promise<void> {
        const { queue, config } = this.options;
        let idleDelay = 0;
        while (this.running) {
            if (this.inFlight.size > config.newBatchThreshold) {
                await Promise.race(this.inFlight);
                continue;
            }
            let messages: DequeuedMessageItem[] = [];
            try {
                // Stopping cuts a poll short: storage that never answers must not hold the host open.
                const response = await queue.receiveMessages({ numberOfMessages: config.batchSize, visibilityTimeout: leaseSeconds, abortSignal: this.stopped.signal });
                messages = response.receivedMessageItems;
            } catch (error) {
                // Like the Functions host, wait quietly for a queue that does not exist yet.
                const missing = (error as { statusCode?: number }).statusCode === 404;
                if (!this.stopped.signal.aborted && !missing) hostLog('warning', `${this.name}: could not read queue "${queue.name}": ${String(error)}`);
            }
            if (messages.length === 0) {
                idleDelay = Math.min(Math.max(idleDelay * 2, minPollingMs), config.maxPollingInterval);
                await sleep(idleDelay, undefined, { signal: this.stopped.signal }).catch(() => undefined);
                continue;
            }
            idleDelay = 0;
            for (const message of messages) this.track(this.process(message));
        }
    }

    private track(work: Promise<void>): void {
        const settled = work.catch((error: unknown) => hostLog('error', `${this.name}: a message could not be settled:`, error));
        this.inFlight.add(settled);
        void settled.finally(() => this.inFlight.delete(settled));
    }

    private async process(message: DequeuedMessageItem): Promise<void> {
        const { config, queue } = this.options;
        const lease = { popReceipt: message.popReceipt };
        if (message.dequeueCount > config.maxDequeueCount) return this.poison(message, lease.popReceipt);
        const renewal = setInterval(() => void this.renew(message, lease), (leaseSeconds * 1000) / 2);
        try {
            await this.runOnMessage(message);
            clearInterval(renewal);
            await queue.deleteMessage(message.messageId, lease.popReceipt);
        } catch {
            clearInterval(renewal);
            await this.release(message, lease.popReceipt);
        }
    }

    private runOnMessage(message: DequeuedMessageItem): Promise<unknown> {
        const { config } = this.options;
        const text = message.messageText;
        if (config.messageEncoding === 'base64' && (text.length % 4 !== 0 || !base64Pattern.test(text))) {
            return Promise.reject(new Error(`Message ${message.messageId} is not valid base64, as messageEncoding "base64" in host.json requires.`));
        }
        const decoded = config.messageEncoding === 'base64' ? Buffer.from(text, 'base64').toString('utf8') : text;
        return invoke(this.options.definition.options.handler, triggerValue(decoded), {
            functionName: this.name,
            trigger: { type: 'queueTrigger', name: 'queueItem' },
            reason: `New queue message detected on '${this.options.queue.name}'.`,
            timeoutMs: this.options.functionTimeoutMs,
            triggerMetadata: {
                id: message.messageId,
                dequeueCount: message.dequeueCount,
                insertionTime: message.insertedOn.toISOString(),
                expirationTime: message.expiresOn.toISOString(),
                nextVisibleTime: message.nextVisibleOn.toISOString(),
                popReceipt: message.popReceipt,
                queueTrigger: decoded,
            },
        });
    }

    private async renew(message: DequeuedMessageItem, lease: { popReceipt: string }): Promise<void> {
        try {
            const renewed = await this.options.queue.updateMessage(message.messageId, lease.popReceipt, undefined, leaseSeconds);
            if (renewed.popReceipt) lease.popReceipt = renewed.popReceipt;
        } catch (error) {
            hostLog('warning', `${this.name}: could not extend the lease on message ${message.messageId}: ${String(error)}`);
        }
    }

    /** After a failed attempt: try again after visibilityTimeout, or give up to the poison queue. */
    private async release(message: DequeuedMessageItem, popReceipt: string): Promise<void> {
        const { config, queue } = this.options;
        try {
            if (message.dequeueCount >= config.maxDequeueCount) {
                await this.poison(message, popReceipt);
            } else {
                await queue.updateMessage(message.messageId, popReceipt, undefined, Math.round(config.visibilityTimeout / 1000));
            }
        } catch (storageError) {
            // The lease runs out and the message comes back by itself: nothing is lost.
            hostLog('warning', `${this.name}: could not release message ${message.messageId} after a failure: ${String(storageError)}`);
        }
    }

    private async poison(message: DequeuedMessageItem, popReceipt: string): Promise<void> {
        const { poisonQueue, queue } = this.options;
        await this.ensurePoisonQueue();
        await poisonQueue.sendMessage(message.messageText);
        await queue.deleteMessage(message.messageId, popReceipt);
        hostLog('warning', `${this.name}: message ${message.messageId} failed ${message.dequeueCount} times and was moved to "${poisonQueue.name}".`);
    }
}
