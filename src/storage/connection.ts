/**
 * How the app reaches its storage account. Locally, a connection string (Azurite's by default).
 * In Azure, the identity-based form the Functions host also uses: no `AzureWebJobsStorage`, but
 * `AzureWebJobsStorage__queueServiceUri`, `__tableServiceUri` (or `__accountName`), with
 * `__credential=managedidentity` and `__clientId` for a user-assigned identity.
 */
export type StorageConnection = { kind: 'connectionString'; connectionString: string } | { kind: 'identity'; queueServiceUri: string; tableServiceUri: string; clientId?: string; managedIdentity: boolean };

export const developmentStorage = 'UseDevelopmentStorage=true';

/** Reads the connection named `name` (AzureWebJobsStorage by default) from the settings. */
export function storageConnection(env: Readonly<Record<string, string | undefined>>, name = 'AzureWebJobsStorage'): StorageConnection {
    const setting = (suffix: string) => env[`${name}__${suffix}`]?.trim() || undefined;
    const connectionString = env[name]?.trim();
    if (connectionString) return { kind: 'connectionString', connectionString };
    const account = setting('accountName');
    const queueServiceUri = setting('queueServiceUri') ?? (account ? `https://${account}.queue.core.windows.net` : undefined);
    const tableServiceUri = setting('tableServiceUri') ?? (account ? `https://${account}.table.core.windows.net` : undefined);
    if (!queueServiceUri && !tableServiceUri) return { kind: 'connectionString', connectionString: developmentStorage };
    if (!queueServiceUri || !tableServiceUri) {
        throw new Error(`${name}__queueServiceUri and ${name}__tableServiceUri (or ${name}__accountName) must be set together for an identity-based connection.`);
    }
    return {
        kind: 'identity',
        queueServiceUri,
        tableServiceUri,
        clientId: setting('clientId'),
        managedIdentity: setting('credential')?.toLowerCase() === 'managedidentity',
    };
}

/** Whether the connection is the local emulator at its default ports. */
export function isDevelopmentStorage(connection: StorageConnection): boolean {
    return connection.kind === 'connectionString' && /^UseDevelopmentStorage=true;?$/i.test(connection.connectionString);
}
