import { checkFailedEvent } from '../alert/alertEvent';
import { AlertStore } from '../alert/alertStore';
import { recordAlert } from '../alert/recordAlert';
import type { Settings } from '../config/settings';
import { DeliveryLog } from '../deliver/deliveryLog';
import type { CheckResult } from './checkResult';
import { CheckStore, type StoredCheck } from './checkStore';

/** How far back the check looks for each destination's last delivery. */
const lastDeliveryDays = 30;

/**
 * Keeps each result in CHECKS_TABLE for the console, and records an alert event for each failing
 * one: once per target and cause in a failing spell, so a daily check does not mail the same
 * thing every day, and a new cause, or the same after a recovery, mails again.
 */
export async function recordChecks(settings: Settings, results: readonly CheckResult[], log: (line: string) => void): Promise<StoredCheck[]> {
    const [checks, alerts, deliveries] = await Promise.all([
        CheckStore.connect(settings.storage, settings.CHECKS_TABLE),
        AlertStore.connect(settings.storage, settings.ALERTS_TABLE),
        DeliveryLog.connect(settings.storage, settings.DELIVERIES_TABLE),
    ]);
    const lastTaken = await deliveries.lastTakenSince(new Date(Date.now() - lastDeliveryDays * 86_400_000));
    return Promise.all(
        results.map(async (result) => {
            const stored = await checks.save(result, lastTaken.get(result.target));
            if (stored.failingSince) await recordAlert(alerts, checkFailedEvent(result.target, stored.failingSince, result.summary), log);
            return stored;
        }),
    );
}
