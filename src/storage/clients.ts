import type { TokenCredential } from '@azure/core-auth';
import type { TableClient } from '@azure/data-tables';
import type { QueueClient, QueueServiceClient, StoragePipelineOptions } from '@azure/storage-queue';
import { lazy } from '../runtime/lazy';
import type { StorageConnection } from './connection';

/**
 * Storage calls give up quickly: intake answers 503 so the sender retries, rather than holding
 * its request open through the SDK's default minutes of back-off.
 */
const retryOptions = { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: 5000 };

type Connection = StorageConnection | string;

function normalise(connection: Connection): StorageConnection {
    return typeof connection === 'string' ? { kind: 'connectionString', connectionString: connection } : connection;
}

const credentials = new Map<string, Promise<TokenCredential>>();

/** The identity for an identity-based connection: the managed identity it names, or the default chain. */
function credentialFor(connection: Extract<StorageConnection, { kind: 'identity' }>): Promise<TokenCredential> {
    const key = `${connection.managedIdentity}:${connection.clientId ?? ''}`;
    let credential = credentials.get(key);
    if (!credential) {
        credential = import('@azure/identity').then((identity) =>
            connection.managedIdentity
                ? new identity.ManagedIdentityCredential(connection.clientId ? { clientId: connection.clientId } : {})
                : new identity.DefaultAzureCredential(connection.clientId ? { managedIdentityClientId: connection.clientId } : {}),
        );
        credentials.set(key, credential);
    }
    return credential;
}

/** The queue service; the SDK is loaded on first use, not when the app starts. */
export async function queueServiceClientFor(connection: Connection): Promise<QueueServiceClient> {
    const { QueueServiceClient } = await import('@azure/storage-queue');
    const options: StoragePipelineOptions = { retryOptions };
    const resolved = normalise(connection);
    if (resolved.kind === 'connectionString') return QueueServiceClient.fromConnectionString(resolved.connectionString, options);
    return new QueueServiceClient(resolved.queueServiceUri, await credentialFor(resolved), options);
}

/** A client for one queue. */
export async function queueClientFor(connection: Connection, queueName: string): Promise<QueueClient> {
    return (await queueServiceClientFor(connection)).getQueueClient(queueName);
}

/** A client for one table; plain HTTP is allowed for Azurite. */
export async function tableClientFor(connection: Connection, tableName: string): Promise<TableClient> {
    const { TableClient } = await import('@azure/data-tables');
    const resolved = normalise(connection);
    const options = { retryOptions: { maxRetries: retryOptions.maxTries - 1, retryDelayInMs: retryOptions.retryDelayInMs, maxRetryDelayInMs: retryOptions.maxRetryDelayInMs } };
    if (resolved.kind === 'identity') return new TableClient(resolved.tableServiceUri, tableName, await credentialFor(resolved), options);
    const insecure = /DefaultEndpointsProtocol=http;|UseDevelopmentStorage=true|Endpoint=http:/i.test(resolved.connectionString);
    return TableClient.fromConnectionString(resolved.connectionString, tableName, { ...options, allowInsecureConnection: insecure });
}

/** The status code of a storage error, if it has one. */
export function statusOf(error: unknown): number | undefined {
    return (error as { statusCode?: number } | null)?.statusCode;
}

/** One entity, or undefined when there is none. */
export async function readEntity<T extends object>(client: TableClient, partitionKey: string, rowKey: string): Promise<T | undefined> {
    try {
        return await client.getEntity<T>(partitionKey, rowKey);
    } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
    }
}

/** Creates a table once per client; a table that exists already is fine. */
export function tableCreator(client: TableClient): () => Promise<void> {
    return lazy(() => client.createTable());
}

/** A store over one table, which it creates once, before its first request that needs it. */
export abstract class TableStore {
    protected readonly ensureTable: () => Promise<void>;

    constructor(protected readonly client: TableClient) {
        this.ensureTable = tableCreator(client);
    }
}
