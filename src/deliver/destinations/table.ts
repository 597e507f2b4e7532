import type { Settings } from '../../config/settings';
import type { Lead } from '../../lead/lead';
import { formatRowKeys, LeadsTable, parseRowKeys, rowKeysFor } from '../../store/leadsTable';
import type { DeliveryContext, DeliveryOutcome, Destination } from '../destination';

/**
 * Writes each lead once into LEADS_TABLE; a lead posted again counts one more occurrence on its
 * row instead of adding a second one. The row's keys are recorded before the insert, so a retry
 * after a crash finds the same row.
 */
export class TableDestination implements Destination {
    readonly name = 'table';

    constructor(private readonly table: LeadsTable) {}

    static async create(settings: Settings): Promise<TableDestination> {
        return new TableDestination(await LeadsTable.connect(settings.AzureWebJobsStorage, settings.LEADS_TABLE));
    }

    async deliver(lead: Lead, context: DeliveryContext): Promise<DeliveryOutcome> {
        const target = context.target ?? formatRowKeys(rowKeysFor(lead.id, new Date()));
        if (!context.target) await context.saveTarget(target);
        const keys = parseRowKeys(target);
        if ((await this.table.insert(lead, keys)) === 'exists') await this.table.countOccurrence(lead, keys);
        return { state: 'delivered', target };
    }

    async onRepeat(lead: Lead, context: DeliveryContext): Promise<void> {
        if (!context.target) return;
        const keys = parseRowKeys(context.target);
        // Someone deleted the row since: the lead is back, so it gets its row back.
        if ((await this.table.countOccurrence(lead, keys)) === 'missing') await this.table.insert(lead, keys);
    }
}
