import { QueueClient } from '@azure/storage-queue';

/** Takes every message off a queue, decoding the base64 JSON the app writes. */
export async function drainQueue(connection: string, queueName: string): Promise<{ text: string; value: unknown }[]> {
    const queue = new QueueClient(connection, queueName);
    if (!(await queue.exists())) return [];
    const messages: { text: string; value: unknown }[] = [];
    for (;;) {
        const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
        if (receivedMessageItems.length === 0) return messages;
        for (const message of receivedMessageItems) {
            const decoded = Buffer.from(message.messageText, 'base64').toString('utf8');
            messages.push({ text: message.messageText, value: JSON.parse(decoded) as unknown });
            await queue.deleteMessage(message.messageId, message.popReceipt);
        }
    }
}

/** Waits until `check` returns a value other than undefined, polling; fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'the condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}
