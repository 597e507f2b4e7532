import type { TableClient } from '@azure/data-tables';
import type { Settings } from '../config/settings';
import { parseRowKeys, type LeadEntity } from '../store/leadsTable';
import { readEntity, statusOf, tableClientFor } from '../storage/clients';

/** What the app holds of a lead: nothing, or its delivery records and, through the table's, its row. */
export type HeldLead = { held: false } | { held: true; row: LeadEntity | undefined };

interface DeliveryTarget {
    rowKey: string;
    Target?: string;
}

/**
 * Reads, and only reads, what the app already has of a lead: the delivery records (one range query
 * over the lead's partition) and the leads table row the `table` record points to. A table that
 * does not exist yet holds nothing; neither is ever created here, so a dry run changes nothing.
 */
export class AppLeads {
    constructor(
        private readonly deliveries: TableClient,
        private readonly leads: TableClient,
    ) {}

    static async connect(settings: Pick<Settings, 'storage' | 'DELIVERIES_TABLE' | 'LEADS_TABLE'>): Promise<AppLeads> {
        const [deliveries, leads] = await Promise.all([tableClientFor(settings.storage, settings.DELIVERIES_TABLE), tableClientFor(settings.storage, settings.LEADS_TABLE)]);
        return new AppLeads(deliveries, leads);
    }

    async find(leadId: string): Promise<HeldLead> {
        const records: DeliveryTarget[] = [];
        const filter = `PartitionKey eq '${leadId.replace(/'/g, "''")}'`;
        try {
            for await (const entity of this.deliveries.listEntities<DeliveryTarget>({ queryOptions: { filter, select: ['RowKey', 'Target'] } })) records.push(entity);
        } catch (error) {
            if (statusOf(error) === 404) return { held: false };
            throw error;
        }
        if (records.length === 0) return { held: false };
        const target = records.find((record) => record.rowKey === 'table')?.Target;
        if (!target) return { held: true, row: undefined };
        const keys = parseRowKeys(target);
        return { held: true, row: await readEntity<LeadEntity>(this.leads, keys.partitionKey, keys.rowKey) };
    }
}
