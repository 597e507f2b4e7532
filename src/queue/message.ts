/** Azure Storage refuses queue messages over 64 KiB, counted after encoding. */
export const maxQueueMessageLength = 64 * 1024;

/** Encodes a value as the Functions queue trigger expects by default: base64 of its JSON. */
export function encodeQueueMessage(value: unknown): string {
    return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}
