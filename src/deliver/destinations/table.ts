import type { Settings } from '../../config/settings';
import { isImported, type Lead } from '../../lead/lead';
import { formatRowKeys, LeadsTable, parseRowKeys, rowKeysFor, type LeadRowKeys } from '../../store/leadsTable';
import type { DeliveryContext, DeliveryOutcome, Destination } from '../destination';

/** When a new row says the lead was stored: now, or for an imported lead its creation time (never ahead of now, where the newest-first read would not yet look). */
function storedAt(lead: Lead, now: Date): Date {
    const created = Date.parse(lead.receivedAt);
    return isImported(lead) && created < now.getTime() ? new Date(created) : now;
}

/**
 * Writes each lead once into LEADS_TABLE; a lead posted again counts one more occurrence on its
 * row, and one that says something new updates the row (see LeadsTable.record) instead of adding a
 * second one. The row key carries the time of the insert itself, so that rows appear in key order
 * and the notifier can read the new ones as a range; an imported lead's carries its creation time
 * instead, so that it takes its place among the leads of its day and never sits above today's.
 */
export class TableDestination implements Destination {
    readonly name = 'table';
    /** A look-up, a read and a write, and an update event: storage calls, each well under the delivery time-out. */
    readonly maxCalls = 4;
    readonly idempotent = true;

    constructor(private readonly table: LeadsTable) {}

    static async create(settings: Settings): Promise<TableDestination> {
        return new TableDestination(await LeadsTable.connect(settings.storage, settings.LEADS_TABLE));
    }

    /** Records this POST on the row, or puts the row back if someone deleted it; a repeat is only counted. */
    private async record(lead: Lead, keys: LeadRowKeys, countOnly = false): Promise<void> {
        if ((await this.table.record(lead, keys, new Date(), countOnly)) === 'missing') await this.table.insert(lead, keys);
    }

    async deliver(lead: Lead, context: DeliveryContext): Promise<DeliveryOutcome> {
        if (context.target) {
            await this.record(lead, parseRowKeys(context.target));
            return { state: 'delivered', target: context.target };
        }
        // An earlier attempt, perhaps of an earlier version, may have inserted the row and stopped
        // before recording where. It was stored on or after its own message's day, by an instance
        // whose clock may have been behind: look from the day before.
        const since = [context.firstReceivedAt, lead.receivedAt].filter((at): at is string => Boolean(at)).sort()[0] ?? lead.receivedAt;
        const earlier = context.attempt > 1 ? await this.table.findLead(lead.id, new Date(Date.parse(since) - 86_400_000).toISOString().slice(0, 10)) : undefined;
        const keys = earlier ?? rowKeysFor(lead.id, storedAt(lead, new Date()));
        if (earlier || (await this.table.insert(lead, keys)) === 'exists') await this.record(lead, keys);
        // Recorded with the outcome; after a crash before that, the look-up above finds the row.
        return { state: 'delivered', target: formatRowKeys(keys) };
    }

    async onRepeat(lead: Lead, context: DeliveryContext): Promise<void> {
        // The delivery record said this version is not news (seen before, or older): the row keeps its content.
        if (context.target) await this.record(lead, parseRowKeys(context.target), true);
    }
}
