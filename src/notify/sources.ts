import type { StorageConnection } from '../storage/connection';
import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { tableClientFor } from '../storage/clients';
import type { LeadEntity } from '../store/leadsTable';
import { settleMs, type Progress } from './cursor';
import { digestLeadFrom, type DigestLead } from './digest';

export interface Candidate {
    position: string;
    lead: DigestLead;
}

export interface Batch {
    rows: Candidate[];
    /** More candidates wait beyond this batch. */
    more: boolean;
}

/** Where new leads are read from. */
export interface NewLeadsSource {
    readonly name: string;
    /** The rows above the cursor not yet notified, in position order: at most `limit`. */
    take(progress: Progress, limit: number): Promise<Batch>;
}

function escapeOData(text: string): string {
    return text.replace(/'/g, "''");
}

/**
 * The app's own leads table. Its keys sort by the time a row was stored (PartitionKey the day,
 * RowKey `<ISO time>_<lead id>`), so the new rows are one range query from the cursor: the cost
 * follows the new leads, not the size of the table. Updated rows keep their keys and are not new.
 */
export class AppLeadsTableSource implements NewLeadsSource {
    constructor(private readonly client: TableClient) {}

    static async connect(connection: StorageConnection | string, tableName: string): Promise<AppLeadsTableSource> {
        return new AppLeadsTableSource(await tableClientFor(connection, tableName));
    }

    get name(): string {
        return this.client.tableName;
    }

    async take(progress: Progress, limit: number): Promise<Batch> {
        const day = progress.cursor.slice(0, 10) || '0000-00-00';
        const filter = `PartitionKey ge '${escapeOData(day)}' and RowKey gt '${escapeOData(progress.cursor)}'`;
        const recent = new Set(progress.recent);
        const rows: Candidate[] = [];
        try {
            for await (const row of this.client.listEntities<LeadEntity>({ queryOptions: { filter } })) {
                if (recent.has(row.rowKey)) continue;
                if (rows.length === limit) return { rows, more: true };
                rows.push({ position: row.rowKey, lead: digestLeadFrom(row, row.CreatedTime) });
            }
        } catch (error) {
            if ((error as { statusCode?: number }).statusCode !== 404) throw error;
        }
        return { rows, more: false };
    }
}

/**
 * A table the marketplace writes itself (its Azure Table lead destination), named by
 * NOTIFY_SOURCE_TABLE. Its keys are the marketplace's, so new rows are found by Timestamp, which
 * Azure Tables does not index: each run scans the table, and costs in proportion to its size.
 * A row counts as new by its CreatedTime (or, without one, its Timestamp), so an update to an old
 * row does not notify again.
 */
export class MarketplaceTableSource implements NewLeadsSource {
    constructor(private readonly client: TableClient) {}

    static async connect(connection: StorageConnection | string, tableName: string): Promise<MarketplaceTableSource> {
        return new MarketplaceTableSource(await tableClientFor(connection, tableName));
    }

    get name(): string {
        return this.client.tableName;
    }

    async take(progress: Progress, limit: number): Promise<Batch> {
        const since = progress.cursor ? new Date(Date.parse(progress.cursor.slice(0, 24)) - settleMs).toISOString() : '';
        const filter = since ? `Timestamp ge datetime'${since}'` : undefined;
        const recent = new Set(progress.recent);
        const candidates: Candidate[] = [];
        for await (const row of this.client.listEntities<Record<string, unknown> & { partitionKey: string; rowKey: string; timestamp?: string }>({ queryOptions: { filter } })) {
            const created = new Date(String(row.CreatedTime ?? row.timestamp ?? ''));
            const time = Number.isNaN(created.getTime()) ? new Date(String(row.timestamp)) : created;
            const key = createHash('sha256').update(`${row.partitionKey}\n${row.rowKey}`).digest('hex').slice(0, 32);
            const position = `${time.toISOString()}_${key}`;
            if (position > progress.cursor && !recent.has(position)) candidates.push({ position, lead: digestLeadFrom(row, time.toISOString()) });
        }
        candidates.sort((a, b) => (a.position < b.position ? -1 : 1));
        return { rows: candidates.slice(0, limit), more: candidates.length > limit };
    }
}
