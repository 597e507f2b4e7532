import { statusOf } from '../storage/clients';
import type { AlertEvent } from './alertEvent';

/** Where alert events are written: the AlertStore, or nothing where alerts are not wired (a test's own services). */
export interface AlertRecorder {
    record(event: AlertEvent): Promise<void>;
}

function described(error: unknown): string {
    const status = statusOf(error);
    const name = error instanceof Error ? error.name : 'an error';
    return status === undefined ? name : `${name}, status ${status}`;
}

/**
 * Writes an alert event on a failure path without ever failing it: the lead still goes to the
 * poison queue or its next retry whatever the alerts table does. A write that failed is logged,
 * with the lead id and destination only, and the alert is lost (the log line is what is left).
 */
export async function recordAlert(recorder: AlertRecorder | undefined, event: AlertEvent, log: (line: string) => void): Promise<boolean> {
    if (!recorder) return false;
    try {
        await recorder.record(event);
        return true;
    } catch (error) {
        const about = [event.leadId ? `lead ${event.leadId}` : '', event.destination ? `at ${event.destination}` : '', event.recipient ? `recipient ${event.recipient}` : ''].filter(Boolean).join(' ');
        log(`Could not record the ${event.kind} alert${about ? ` for ${about}` : ''} (${described(error)}); the operator will not be mailed about it. Its cause stays in the delivery record or set-aside list.`);
        return false;
    }
}
