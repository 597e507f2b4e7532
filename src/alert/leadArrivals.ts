import type { TableClient } from '@azure/data-tables';
import { statusOf, tableClientFor } from '../storage/clients';
import type { StorageConnection } from '../storage/connection';

/** How far back the newest lead is looked for, one day partition at a time, when the leads have gone quiet. */
const maxDaysBack = 31;

function dayOf(time: Date): string {
    return time.toISOString().slice(0, 10);
}

/**
 * When leads arrived, read from the leads table by its keys (PartitionKey the UTC day, RowKey
 * `<ISO time>_<lead id>`): range queries over a few day partitions, never a scan of the table.
 */
export class LeadArrivals {
    constructor(private readonly client: TableClient) {}

    static async connect(connection: StorageConnection | string, tableName: string): Promise<LeadArrivals> {
        return new LeadArrivals(await tableClientFor(connection, tableName));
    }

    /** Whether any lead arrived at or after `time`, imported ones aside: stops at the first row found (pages may come back empty, hence the loop). */
    async anySince(time: Date): Promise<boolean> {
        const filter = `PartitionKey ge '${dayOf(time)}' and RowKey ge '${time.toISOString()}'`;
        try {
            for await (const page of this.client.listEntities<{ Imported?: boolean }>({ queryOptions: { filter, select: ['RowKey', 'Imported'] } }).byPage({ maxPageSize: 100 })) {
                if (page.some((row) => row.Imported !== true)) return true;
            }
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
        }
        return false;
    }

    /** The row key of the newest lead stored before `time`, looking back day by day to `floor` (31 days at most). */
    async newestBefore(time: Date, floor: Date): Promise<string | undefined> {
        for (let back = 0; back <= maxDaysBack; back++) {
            const day = new Date(time.getTime() - back * 86_400_000);
            if (dayOf(day) < dayOf(floor)) return undefined;
            const keys = await this.allKeys(`PartitionKey eq '${dayOf(day)}' and RowKey lt '${time.toISOString()}'`);
            const newest = keys.sort().at(-1);
            if (newest) return newest;
        }
        return undefined;
    }

    private async allKeys(filter: string): Promise<string[]> {
        const keys: string[] = [];
        try {
            for await (const row of this.client.listEntities<{ Imported?: boolean }>({ queryOptions: { filter, select: ['RowKey', 'Imported'] } })) if (row.Imported !== true) keys.push(row.rowKey ?? '');
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
        }
        return keys;
    }
}
