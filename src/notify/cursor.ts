/**
 * Where notification has got to in a leads table. Every row has a position that sorts by the time
 * it was stored (`<ISO time>_<key>`). All rows at or below `cursor` have been notified; `recent`
 * holds the positions above it that have been notified too.
 */
export interface Progress {
    cursor: string;
    recent: string[];
}

/**
 * How long a row of the app's leads table may appear after the time in its key: an insert that
 * became visible late, and instance clocks a few minutes apart (a row keyed by a clock five minutes
 * behind appears five minutes "in the past"). The cursor never passes "now minus this", so such a
 * row is still found; the positions notified above the cursor keep it from being mailed twice.
 */
export const appTableSettleMs = 10 * 60_000;

/** The cursor position that means "everything stored before this time". */
export function positionAt(time: Date): string {
    return time.toISOString();
}

/**
 * Progress after a digest of `mailed` (positions, in order) was accepted. When more candidates
 * are left, the cursor may not pass the last one mailed; it never passes `settledBefore`.
 */
export function advance(progress: Progress, mailed: readonly string[], more: boolean, settledBefore: string): Progress {
    const last = mailed.at(-1);
    const reachable = more && last !== undefined ? (last < settledBefore ? last : settledBefore) : settledBefore;
    const cursor = reachable > progress.cursor ? reachable : progress.cursor;
    const recent = [...new Set([...progress.recent, ...mailed])].filter((position) => position > cursor).sort();
    return { cursor, recent };
}

/** Progress with these positions notified, the cursor unmoved: for a batch only partly done. */
export function remember(progress: Progress, positions: readonly string[]): Progress {
    const recent = [...new Set([...progress.recent, ...positions])].filter((position) => position > progress.cursor).sort();
    return { cursor: progress.cursor, recent };
}
