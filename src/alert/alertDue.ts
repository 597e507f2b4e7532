/**
 * Whether a kind's next mail may go now: at most one mail per kind in ALERT_INTERVAL_MINUTES,
 * counted from the last one sent. A mail written down and not known to be sent is always due.
 */
export function alertDue(state: { lastSentAt?: string; pending: boolean; unsent: number }, intervalMinutes: number, now = new Date()): boolean {
    if (state.pending) return true;
    if (state.unsent === 0) return false;
    return state.lastSentAt === undefined || now.getTime() - Date.parse(state.lastSentAt) >= intervalMinutes * 60_000;
}
