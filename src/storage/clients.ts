import type { QueueClient, StoragePipelineOptions } from '@azure/storage-queue';

/**
 * Storage calls give up quickly: intake answers 503 so the sender retries, rather than holding
 * its request open through the SDK's default minutes of back-off.
 */
const pipelineOptions: StoragePipelineOptions = {
    retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: 5000 },
};

/** A client for one queue; the SDK is loaded on first use, not when the app starts. */
export async function queueClientFor(connection: string, queueName: string): Promise<QueueClient> {
    const { QueueServiceClient } = await import('@azure/storage-queue');
    return QueueServiceClient.fromConnectionString(connection, pipelineOptions).getQueueClient(queueName);
}
