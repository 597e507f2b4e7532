import type { StorageConnection } from '../storage/connection';
import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { tableClientFor } from '../storage/clients';
import { updatesTableName, type LeadEntity, type LeadUpdateEntity } from '../store/leadsTable';
import { appTableSettleMs, type Progress } from './cursor';
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
    /** How long after the time in its position a row may still appear (see appTableSettleMs). */
    readonly settleMs: number;
    /** The rows above the cursor not yet notified, in position order: at most `limit`. */
    take(progress: Progress, limit: number): Promise<Batch>;
}

function escapeOData(text: string): string {
    return text.replace(/'/g, "''");
}

/** Up to `limit + 1` rows of a table above the cursor not yet notified, in key order; rows `passed` says are not news are left out. */
async function rowsAbove<T extends LeadEntity>(client: TableClient, progress: Progress, limit: number, read: (row: T) => Candidate, passed: (row: T) => boolean = () => false): Promise<Candidate[]> {
    const day = progress.cursor.slice(0, 10) || '0000-00-00';
    const filter = `PartitionKey ge '${escapeOData(day)}' and RowKey gt '${escapeOData(progress.cursor)}'`;
    const recent = new Set(progress.recent);
    const rows: Candidate[] = [];
    try {
        for await (const row of client.listEntities<T>({ queryOptions: { filter } })) {
            if (recent.has(row.rowKey) || passed(row)) continue;
            rows.push(read(row));
            if (rows.length > limit) break;
        }
    } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
    return rows;
}

/**
 * The app's own leads table, and its updates table beside it. Their keys sort by the time a row
 * was stored (PartitionKey the day, RowKey `<ISO time>_<lead id>…`), so the new rows are one range
 * query on each from the cursor: the cost follows the new leads, not the size of the table. A lead
 * that came back with new content is listed again from its update row, marked with what changed;
 * a row that was only counted again keeps its keys and is not new. An imported lead is not new: the
 * marketplace sent it long ago (its row is keyed by its creation time, mostly below the cursor);
 * one that is an update of a lead the app has is listed as an update.
 */
export class AppLeadsTableSource implements NewLeadsSource {
    readonly settleMs = appTableSettleMs;

    constructor(
        private readonly client: TableClient,
        private readonly updates: TableClient,
    ) {}

    static async connect(connection: StorageConnection | string, tableName: string): Promise<AppLeadsTableSource> {
        const [client, updates] = await Promise.all([tableClientFor(connection, tableName), tableClientFor(connection, updatesTableName(tableName))]);
        return new AppLeadsTableSource(client, updates);
    }

    get name(): string {
        return this.client.tableName;
    }

    async take(progress: Progress, limit: number): Promise<Batch> {
        const [leads, updates] = await Promise.all([
            rowsAbove<LeadEntity>(
                this.client,
                progress,
                limit,
                (row) => ({ position: row.rowKey, lead: digestLeadFrom(row, row.CreatedTime) }),
                (row) => row.Imported === true,
            ),
            rowsAbove<LeadUpdateEntity>(this.updates, progress, limit, (row) => ({
                position: row.rowKey,
                lead: { ...digestLeadFrom(row, row.CreatedTime), update: { changed: row.Changed ? row.Changed.split(', ') : [], firstSeen: row.FirstSeenAt } },
            })),
        ]);
        const rows = [...leads, ...updates].sort((a, b) => (a.position < b.position ? -1 : 1));
        return { rows: rows.slice(0, limit), more: rows.length > limit };
    }
}

/**
 * The marketplace writes a row up to an hour after the CreatedTime it gives it: a row counts as new
 * by its CreatedTime, so the cursor stays this far behind to find such a row when it appears.
 */
export const marketplaceTableSettleMs = 75 * 60_000;

/**
 * A table the marketplace writes itself (its Azure Table lead destination), named by
 * NOTIFY_SOURCE_TABLE. Its keys are the marketplace's, so new rows are found by Timestamp, which
 * Azure Tables does not index: each run scans the table, and costs in proportion to its size.
 * A row counts as new by its CreatedTime (or, without one, its Timestamp), so an update to an old
 * row does not notify again.
 */
export class MarketplaceTableSource implements NewLeadsSource {
    readonly settleMs = marketplaceTableSettleMs;

    constructor(private readonly client: TableClient) {}

    static async connect(connection: StorageConnection | string, tableName: string): Promise<MarketplaceTableSource> {
        return new MarketplaceTableSource(await tableClientFor(connection, tableName));
    }

    get name(): string {
        return this.client.tableName;
    }

    async take(progress: Progress, limit: number): Promise<Batch> {
        // Timestamp is when a row appeared (the service's clock): anything that appeared since the cursor's time, with a margin.
        const since = progress.cursor ? new Date(Date.parse(progress.cursor.slice(0, 24)) - appTableSettleMs).toISOString() : '';
        const filter = since ? `Timestamp ge datetime'${since}'` : undefined;
        const recent = new Set(progress.recent);
        const candidates: Candidate[] = [];
        for await (const row of this.client.listEntities<Record<string, unknown> & { partitionKey: string; rowKey: string; timestamp?: string }>({ queryOptions: { filter } })) {
            // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a table cell: a string or a date
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
