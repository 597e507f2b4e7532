import { settings, type Settings } from '../../src/config/settings';

/**
 * Runs `body` with some settings changed, then puts them back as they were. Settings are read once
 * a process, as in Azure, so an in-process suite changes the one object every module holds.
 */
export async function withSettings<T>(changes: Partial<Settings>, body: () => Promise<T>): Promise<T> {
    const current = settings();
    const before = Object.fromEntries(Object.keys(changes).map((name) => [name, current[name as keyof Settings]]));
    Object.assign(current, changes);
    try {
        return await body();
    } finally {
        Object.assign(current, before);
    }
}
