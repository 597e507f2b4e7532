import type { TableClient } from '@azure/data-tables';
import type { QueueClient, StoragePipelineOptions } from '@azure/storage-queue';

/**
 * Storage calls give up quickly: intake answers 503 so the sender retries, rather than holding
 * its request open through the SDK's default minutes of back-off.
 */
const retryOptions = { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: 5000 };

/** A client for one queue; the SDK is loaded on first use, not when the app starts. */
export async function queueClientFor(connection: string, queueName: string): Promise<QueueClient> {
    const { QueueServiceClient } = await import('@azure/storage-queue');
    const options: StoragePipelineOptions = { retryOptions };
    return QueueServiceClient.fromConnectionString(connection, options).getQueueClient(queueName);
}

/** A client for one table; the SDK is loaded on first use. Plain HTTP is allowed for Azurite. */
export async function tableClientFor(connection: string, tableName: string): Promise<TableClient> {
    const { TableClient } = await import('@azure/data-tables');
    return TableClient.fromConnectionString(connection, tableName, {
        allowInsecureConnection: /DefaultEndpointsProtocol=http;|UseDevelopmentStorage=true|Endpoint=http:/i.test(connection),
        retryOptions: { maxRetries: retryOptions.maxTries - 1, retryDelayInMs: retryOptions.retryDelayInMs, maxRetryDelayInMs: retryOptions.maxRetryDelayInMs },
    });
}

/** The status code of a storage error, if it has one. */
export function statusOf(error: unknown): number | undefined {
    return (error as { statusCode?: number } | null)?.statusCode;
}

/** Creates a table once per client; a table that exists already is fine. */
export function tableCreator(client: TableClient): () => Promise<void> {
    let ready: Promise<void> | undefined;
    return () => {
        ready ??= client.createTable().catch((error: unknown) => {
            ready = undefined;
            throw error;
        });
        return ready;
    };
}
