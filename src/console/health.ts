import type { Settings } from '../config/settings';
import { tableClientFor, statusOf } from '../storage/clients';
import type { DeliveryLog } from '../store/deliveryLog';
import type { LeadsTable } from '../store/leadsTable';

export interface Health {
    lastLeadAt?: string;
    leadsToday: number;
    leadsThisWeek: number;
    /** Deliveries whose last attempt failed in the last 24 hours, per destination. */
    failedLastDay: Record<string, number>;
    poisonCount: number;
    lastDigestAt?: string;
}

const dayMs = 86_400_000;

function dayOf(ms: number): string {
    return new Date(ms).toISOString().slice(0, 10);
}

/** When the last digest went out, from the notifier's progress rows (one per source table). */
async function lastDigestSent(s: Settings): Promise<string | undefined> {
    const client = await tableClientFor(s.storage, s.NOTIFY_STATE_TABLE);
    let last: string | undefined;
    try {
        for await (const row of client.listEntities<{ LastSentAt?: string }>({ queryOptions: { filter: "PartitionKey eq 'progress'", select: ['LastSentAt'] } })) {
            if (row.LastSentAt && (!last || row.LastSentAt > last)) last = row.LastSentAt;
        }
    } catch (error) {
        if (statusOf(error) !== 404) throw error;
    }
    return last;
}

/** When the newest lead the marketplace sent was stored (imported leads are not a sign that leads arrive). */
async function newestLeadAt(leads: LeadsTable, now: number): Promise<string | undefined> {
    for await (const row of leads.newest({ fromDay: dayOf(now - 365 * dayMs), toDay: dayOf(now) })) if (row.Imported !== true) return row.rowKey.slice(0, 24);
    return undefined;
}

/** The health strip: is the marketplace reaching the app, are leads getting out, are digests going. */
export async function healthOf(s: Settings, leads: LeadsTable, log: DeliveryLog, poisonCount: number, now = Date.now()): Promise<Health> {
    const today = dayOf(now);
    const [lastLeadAt, counts, failed, lastDigestAt] = await Promise.all([newestLeadAt(leads, now), leads.countSince(dayOf(now - 6 * dayMs)), log.failedSince(new Date(now - dayMs)), lastDigestSent(s)]);
    const failedLastDay: Record<string, number> = {};
    for (const record of failed) failedLastDay[record.destination] = (failedLastDay[record.destination] ?? 0) + 1;
    return {
        ...(lastLeadAt ? { lastLeadAt } : {}),
        leadsToday: counts.get(today) ?? 0,
        leadsThisWeek: [...counts.values()].reduce((sum, n) => sum + n, 0),
        failedLastDay,
        poisonCount,
        ...(lastDigestAt ? { lastDigestAt } : {}),
    };
}
