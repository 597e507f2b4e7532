/** The longest a retry waits; and the queue cannot hide a message for more than 7 days. */
const maxDelaySeconds = 3600;

/**
 * Seconds to wait before delivery attempt `attempt + 1`: doubling from `baseSeconds` up to an
 * hour, and never sooner than a Retry-After the destination asked for.
 */
export function retryDelaySeconds(attempt: number, baseSeconds: number, retryAfterMs?: number): number {
    const doubled = Math.min(baseSeconds * 2 ** Math.max(0, attempt - 1), maxDelaySeconds);
    const asked = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs / 1000, 6 * 24 * 3600);
    return Math.max(doubled, asked);
}
