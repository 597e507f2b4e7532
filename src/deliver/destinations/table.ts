import type { Settings } from '../../config/settings';
import type { Lead } from '../../lead/lead';
import { formatRowKeys, LeadsTable, parseRowKeys, rowKeysFor, type LeadRowKeys } from '../../store/leadsTable';
import type { DeliveryContext, DeliveryOutcome, Destination } from '../destination';

/**
 * Writes each lead once into LEADS_TABLE; a lead posted again counts one more occurrence on its
 * row, and one that says something new updates the row (see LeadsTable.record) instead of adding a
 * second one. The row key carries the time of the insert itself, so that rows appear in key order
 * and the notifier can read the new ones as a range.
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
        const keys = earlier ?? rowKeysFor(lead.id, new Date());
        if (earlier || (await this.table.insert(lead, keys)) === 'exists') await this.record(lead, keys);
        // Recorded with the outcome; after a crash before that, the look-up above finds the row.
        return { state: 'delivered', target: formatRowKeys(keys) };
    }

    async onRepeat(lead: Lead, context: DeliveryContext): Promise<void> {
        // The delivery record said this version is not news (seen before, or older): the row keeps its content.
        if (context.target) await this.record(lead, parseRowKeys(context.target), true);
    }
}
