/**
 * Loads a module on first use and keeps it. Function modules import their implementation this way
 * so that starting the app loads only `@azure/functions`, not zod or the storage SDKs.
 */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
    let loaded: Promise<T> | undefined;
    return () => {
        loaded ??= load().catch((error: unknown) => {
            loaded = undefined;
            throw error;
        });
        return loaded;
    };
}
