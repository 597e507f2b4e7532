/**
 * Makes a value on first use and keeps it; a failure is forgotten, so the next call tries again.
 * Function modules import their implementation this way, so that starting the app loads only
 * `@azure/functions`, not zod or the storage SDKs; clients and one-time set-up use it too.
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
