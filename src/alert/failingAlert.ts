import { failingEvent, type AlertEvent } from './alertEvent';

/**
 * The "failing" alert due at a failure: the retry chain has failed since `since` (its first
 * failure, this one if none came before) for ALERT_FAILING_MINUTES or longer, and has no such
 * alert yet. Only failures are looked at: a chain is found failing at its next failed attempt.
 */
export function failingAlertFor(failing: { since: string; alerted: boolean }, lead: { id: string; offer: string }, destination: string, reason: string, failingMinutes: number, now = new Date()): AlertEvent | undefined {
    if (failing.alerted || now.getTime() - Date.parse(failing.since) < failingMinutes * 60_000) return undefined;
    return failingEvent(lead, destination, failing.since, reason, now);
}
