import type { StorageConnection } from '../storage/connection';
import type { TableClient } from '@azure/data-tables';
import { isImported, type Lead } from '../lead/lead';
import { versionOrder } from '../lead/version';
import { campaignCells, campaignColumns } from './campaignColumns';
import { readEntity, statusOf, tableClientFor, tableCreator } from '../storage/clients';
import { LeadStats, statsTableName } from './leadStats';
import { addDays } from './utcDays';
import { EmailIndex } from './emailIndex';

/**
 * Where a lead's row sits. PartitionKey is the UTC day it was first stored (an imported lead's:
 * the day it was created) and RowKey starts with the time, so "the leads stored since T" is a range query over a day or two of partitions, whose
 * cost follows the new leads, not the size of the table. Neither key holds a character Azure
 * Tables forbids (`/ \ # ?`, control characters).
 */
export interface LeadRowKeys {
    partitionKey: string;
    rowKey: string;
}

export function rowKeysFor(leadId: string, storedAt: Date): LeadRowKeys {
    const iso = storedAt.toISOString();
    return { partitionKey: iso.slice(0, 10), rowKey: `${iso}_${leadId}` };
}

/** Keys as one string for a delivery record, and back. */
export function formatRowKeys(keys: LeadRowKeys): string {
    return `${keys.partitionKey}/${keys.rowKey}`;
}

export function parseRowKeys(target: string): LeadRowKeys {
    const slash = target.indexOf('/');
    return { partitionKey: target.slice(0, slash), rowKey: target.slice(slash + 1) };
}

/** A row of the leads table: the marketplace table's columns first, then the parsed ones. */
export interface LeadEntity {
    partitionKey: string;
    rowKey: string;
    LeadSource: string;
    ActionCode: string;
    OfferDisplayName: string;
    Description: string;
    /** JSON: FirstName, LastName, Email, Phone, Country, Company, Title. */
    CustomerInfo: string;
    CreatedTime: string;
    LeadId: string;
    Source: string;
    Offer: string;
    PublisherId: string;
    OfferId: string;
    IsTest: boolean;
    DoNotContact: boolean;
    DedupeKey: string;
    Occurrences: number;
    LastSeenAt: string;
    /** The receipts (one per POST) already counted, newest last: makes counting idempotent. */
    ReceiptIds: string;
    Format: string;
    /** Brought in by an import and never posted by the marketplace since: not a sign that leads arrive. */
    Imported?: boolean;
    Extra?: string;
    /** Campaign values found in the Description (see parseCampaign), each in a column of its own when present. */
    Campaign?: string;
    UtmSource?: string;
    UtmMedium?: string;
    UtmCampaign?: string;
    UtmTerm?: string;
    UtmContent?: string;
    /** The content version the columns show, when it was received, and its place among the lead's versions (versionOrder). */
    Version?: string;
    VersionAt?: string;
    VersionOrder?: string;
    /** JSON: up to five earlier versions, newest last: when each arrived, what changed, and the values it had. */
    History?: string;
    /** The update event of the newest version, and the POST that brought it (see LeadsTable.record). */
    LastUpdateKey?: string;
    LastUpdateReceipt?: string;
    etag?: string;
}

/** A row of `<LEADS_TABLE>Updates`: a lead as its newest version says, for the digest to list again. */
export interface LeadUpdateEntity extends LeadEntity {
    Changed: string;
    FirstSeenAt: string;
}

/** The customer details of a row, from its CustomerInfo JSON: each may be missing. */
export interface CustomerInfo {
    FirstName?: string;
    LastName?: string;
    Email?: string;
    Phone?: string;
    Country?: string;
    Company?: string;
    Title?: string;
}

/** The customer of a row; a CustomerInfo that is not JSON (a row someone else wrote) reads as no details. */
export function customerOf(row: Pick<LeadEntity, 'CustomerInfo'>): CustomerInfo {
    const parsed = safeJson(row.CustomerInfo);
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

export interface HistoryEntry {
    at: string;
    version: string;
    changed: string[];
    before: Record<string, string>;
}

/** Azure Tables stores at most 32 K UTF-16 characters in a string property. */
const maxTableString = 32_000;
const keptReceipts = 32;

function fit(text: string): string {
    return text.length <= maxTableString ? text : `${text.slice(0, maxTableString - 15)}…[truncated]`;
}

export function leadEntity(lead: Lead, keys: LeadRowKeys): LeadEntity {
    const { customer } = lead;
    const extra = Object.keys(lead.extra).length > 0 ? { Extra: fit(JSON.stringify(lead.extra)) } : {};
    return {
        ...keys,
        LeadSource: fit(lead.leadSource),
        ActionCode: lead.action,
        OfferDisplayName: fit(lead.offerTitle || lead.offer),
        Description: fit(lead.description),
        CustomerInfo: fit(
            JSON.stringify({
                FirstName: customer.firstName,
                LastName: customer.lastName,
                Email: customer.email,
                Phone: customer.phone,
                Country: customer.country,
                Company: customer.company,
                Title: customer.title,
            }),
        ),
        CreatedTime: lead.receivedAt,
        LeadId: lead.id,
        Source: fit(lead.source),
        Offer: fit(lead.offer),
        PublisherId: fit(lead.publisherId),
        OfferId: fit(lead.offerId),
        IsTest: lead.isTest,
        DoNotContact: lead.doNotContact,
        DedupeKey: fit(lead.dedupeKey),
        Occurrences: 1,
        LastSeenAt: lead.receivedAt,
        ReceiptIds: lead.receiptId,
        Format: lead.format,
        Version: lead.version,
        VersionAt: lead.receivedAt,
        VersionOrder: versionOrder(lead),
        ...extra,
        ...campaignCells(lead.campaign),
        ...(isImported(lead) ? { Imported: true } : {}),
    };
}

const keptVersions = 5;
/** Half the app table's settle window in the digest (10 minutes): an update key younger than this is still ahead of its cursor. */
const freshUpdateKeyMs = 5 * 60_000;

/** The content columns a new version replaces; the first-seen time, counts and keys stay. */
const contentColumns = [
    'LeadSource',
    'ActionCode',
    'OfferDisplayName',
    'Description',
    'CustomerInfo',
    'Source',
    'Offer',
    'PublisherId',
    'OfferId',
    'IsTest',
    'DoNotContact',
    'Format',
    'Extra',
    ...Object.values(campaignColumns),
] as const;

/** History as stored: the oldest entries dropped until it fits a table string, so that it stays JSON. */
function historyText(entries: readonly HistoryEntry[]): string {
    let kept = entries;
    while (kept.length > 1 && JSON.stringify(kept).length > maxTableString) kept = kept.slice(1);
    return fit(JSON.stringify(kept));
}

/** The earlier versions recorded on a row, oldest first. */
export function historyOf(row: Pick<LeadEntity, 'History'>): HistoryEntry[] {
    try {
        const parsed: unknown = JSON.parse(row.History ?? '[]');
        return Array.isArray(parsed) ? (parsed as HistoryEntry[]) : [];
    } catch {
        return [];
    }
}

/** The columns of a row that a new version changes, with the values they had: its history entry. */
function changesBetween(row: LeadEntity, next: LeadEntity): { changed: string[]; before: Record<string, string> } {
    const before: Record<string, string> = {};
    for (const column of contentColumns) {
        const old = row[column];
        if (String(old ?? '') !== String(next[column] ?? '')) before[column] = String(old ?? '');
    }
    const oldInfo = safeJson(row.CustomerInfo);
    const newInfo = safeJson(next.CustomerInfo);
    const changed = Object.keys(before).flatMap((column) =>
        column === 'CustomerInfo' ? Object.keys({ ...oldInfo, ...newInfo }).filter((key) => oldInfo[key] !== newInfo[key]) : [column === 'OfferDisplayName' ? 'Offer' : column],
    );
    return { changed: [...new Set(changed)], before };
}

function safeJson(text: string | undefined): Record<string, unknown> {
    try {
        const parsed: unknown = JSON.parse(text ?? '{}');
        return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch {
        return {};
    }
}

export type RecordResult = 'counted' | 'already-counted' | 'updated' | 'missing';

/** `<LEADS_TABLE>Updates`: where the digest finds leads that came back with something new. */
export function updatesTableName(leadsTable: string): string {
    return `${leadsTable}Updates`;
}

/** A span of the leads table to read newest first. */
export interface LeadRange {
    /** The first and the last UTC day (`YYYY-MM-DD`), both included. */
    fromDay: string;
    toDay: string;
    /** Only rows whose RowKey sorts before this one: where the previous page stopped. */
    before?: string;
    /** A condition on the table's own columns, in OData, that the table service applies. */
    filter?: string;
    /** How many rows the caller needs: the first window is sized to hold about that many. */
    want?: number;
}

/** The first window a newest-first read looks at; each empty one is four times wider, each other one twice. */
const firstWindowMs = 60_000;
/** A window holding more rows than this is read again half as wide, so that a burst never loads thousands of rows for one page. */
const maxWindowRows = 1_000;

function odataText(text: string): string {
    return `'${text.replace(/'/g, "''")}'`;
}

/** The app's leads table, in the layout tools for the marketplace's own lead table understand. */
export class LeadsTable {
    readonly ensureTable: () => Promise<void>;
    private readonly ensureUpdates: () => Promise<void>;
    /** Leads per day; told of every row stored or changed in a day whose figures it keeps. */
    readonly stats: LeadStats;
    /** Rows a millisecond in the last range read newest first: sizes the next one's first window. */
    private rowsPerMs: number | undefined;

    constructor(
        readonly client: TableClient,
        readonly updates: TableClient,
        statsClient: TableClient,
        readonly emails: EmailIndex,
    ) {
        this.ensureTable = tableCreator(client);
        this.ensureUpdates = tableCreator(updates);
        this.stats = new LeadStats(client, statsClient);
    }

    static async connect(connection: StorageConnection | string, tableName: string): Promise<LeadsTable> {
        const [client, updates, stats, emails] = await Promise.all([
            tableClientFor(connection, tableName),
            tableClientFor(connection, updatesTableName(tableName)),
            tableClientFor(connection, statsTableName(tableName)),
            EmailIndex.connect(connection, tableName),
        ]);
        return new LeadsTable(client, updates, stats, emails);
    }

    /**
     * Inserts the lead's row; 'exists' when a row with these keys is already there. Its address goes
     * into the e-mail index first: an index entry whose row never came is skipped by the search, a
     * row whose entry never came could not be found.
     */
    async insert(lead: Lead, keys: LeadRowKeys): Promise<'inserted' | 'exists'> {
        await this.ensureTable();
        await this.emails.add(lead.customer.email, formatRowKeys(keys));
        let outcome: 'inserted' | 'exists' = 'inserted';
        try {
            await this.client.createEntity(leadEntity(lead, keys));
        } catch (error) {
            if (statusOf(error) !== 409) throw error;
            outcome = 'exists';
        }
        // Only a row in a day before yesterday (an import) costs this request: a new lead's day is counted live. Also when it
        // exists: it may be this insert's own, from a try that stopped before this line.
        await this.stats.changed(keys.partitionKey);
        return outcome;
    }

    /** The keys of a lead's row, looked for in the partitions since a UTC day: for retries, not the hot path. */
    async findLead(leadId: string, sinceDay: string): Promise<LeadRowKeys | undefined> {
        await this.ensureTable();
        const filter = `PartitionKey ge '${sinceDay.replace(/'/g, "''")}' and LeadId eq '${leadId.replace(/'/g, "''")}'`;
        for await (const row of this.client.listEntities<LeadEntity>({ queryOptions: { filter, select: ['PartitionKey', 'RowKey'] } })) {
            return { partitionKey: row.partitionKey, rowKey: row.rowKey };
        }
        return undefined;
    }

    /**
     * Records one more POST of the lead on its row, once per receipt, under an ETag guard. A newer
     * version with other content replaces the content columns (first-seen time, counts and keys
     * stay), keeps the old values in History, and adds an update event for the digest; an older or
     * identical one is only counted.
     */
    async record(lead: Lead, keys: LeadRowKeys, now = new Date(), countOnly = false): Promise<RecordResult> {
        await this.ensureTable();
        for (;;) {
            let row: LeadEntity;
            try {
                row = await this.client.getEntity<LeadEntity>(keys.partitionKey, keys.rowKey);
            } catch (error) {
                if (statusOf(error) === 404) return 'missing';
                throw error;
            }
            const receipts = row.ReceiptIds ? row.ReceiptIds.split(',') : [];
            if (receipts.includes(lead.receiptId)) {
                // After a crash between the row's update and its event: the same POST puts the event in.
                if (row.LastUpdateReceipt === lead.receiptId && row.Version === lead.version) {
                    const current = await this.currentUpdateKey(row, lead, now);
                    if (!current) continue;
                    await this.insertUpdateEvent(current, lead);
                }
                return 'already-counted';
            }
            const counted = {
                ...keys,
                Occurrences: ((row.Occurrences as number | undefined) ?? 1) + 1,
                LastSeenAt: lead.receivedAt > row.LastSeenAt ? lead.receivedAt : row.LastSeenAt,
                ReceiptIds: [...receipts, lead.receiptId].slice(-keptReceipts).join(','),
                ...(row.Imported && !isImported(lead) ? { Imported: false } : {}),
            };
            const change = countOnly ? undefined : this.versionChange(row, lead, keys, now);
            const newer = change !== undefined && 'LastUpdateKey' in change;
            const changes = { ...counted, ...change };
            // Before the row, as on insert: a new address is found by the search as soon as the row shows it.
            if (newer && (customerOf(row).Email ?? '').trim().toLowerCase() !== lead.customer.email.trim().toLowerCase()) await this.emails.add(lead.customer.email, formatRowKeys(keys));
            try {
                await this.client.updateEntity(changes, 'Merge', { etag: row.etag });
            } catch (error) {
                if (statusOf(error) !== 412) throw error;
                continue;
            }
            // What the figures count may have changed: the source, action, offer, test flag or import flag.
            if (change !== undefined || 'Imported' in counted) await this.stats.changed(keys.partitionKey, now);
            if (!newer) return 'counted';
            await this.insertUpdateEvent({ ...row, ...changes }, lead);
            return 'updated';
        }
    }

    /**
     * What a POST changes on the row: nothing for a version seen before (a sender's retry of an earlier
     * one) or older than the row's (by versionOrder: storage's time, never an instance's clock); a new
     * version's content, history and update event otherwise. A row from before versions whose content
     * is the same only takes the version, without an update.
     */
    private versionChange(row: LeadEntity, lead: Lead, keys: LeadRowKeys, now: Date): Partial<LeadEntity> | undefined {
        const seen = [row.Version, ...historyOf(row).map((entry) => entry.version)];
        if (seen.includes(lead.version) || versionOrder(lead) < (row.VersionOrder ?? row.VersionAt ?? row.CreatedTime)) return undefined;
        const next = leadEntity(lead, keys);
        const { changed, before } = changesBetween(row, next);
        if (row.Version === undefined && changed.length === 0) return { Version: lead.version, VersionAt: lead.receivedAt, VersionOrder: versionOrder(lead) };
        const entry: HistoryEntry = { at: row.VersionAt ?? row.CreatedTime, version: row.Version ?? '', changed, before };
        const content = Object.fromEntries(contentColumns.map((column) => [column, next[column] ?? '']));
        return {
            ...content,
            Version: lead.version,
            VersionAt: lead.receivedAt,
            VersionOrder: versionOrder(lead),
            History: historyText([...historyOf(row), entry].slice(-keptVersions)),
            LastUpdateKey: `${now.toISOString()}_${lead.id}_${lead.version}`,
            LastUpdateReceipt: lead.receiptId,
        };
    }

    /**
     * The row, with an update key the digest will still read. An event written late under its old key
     * (storage failed for longer than the digest's settle window) would sort behind the digest's
     * cursor and never be mailed: one that is not there yet gets a fresh key. Undefined when the row
     * changed meanwhile (read it again).
     */
    private async currentUpdateKey(row: LeadEntity, lead: Lead, now: Date): Promise<LeadEntity | undefined> {
        const key = row.LastUpdateKey;
        if (!key || Date.parse(key.slice(0, 24)) >= now.getTime() - freshUpdateKeyMs) return row;
        await this.ensureUpdates();
        if (await readEntity<LeadUpdateEntity>(this.updates, key.slice(0, 10), key)) return row;
        const LastUpdateKey = `${now.toISOString()}_${lead.id}_${lead.version}`;
        try {
            await this.client.updateEntity({ partitionKey: row.partitionKey, rowKey: row.rowKey, LastUpdateKey }, 'Merge', { etag: row.etag });
        } catch (error) {
            if (statusOf(error) === 412) return undefined;
            throw error;
        }
        return { ...row, LastUpdateKey };
    }

    /** The update event: its row key starts with the time of the update, as the digest's cursor expects. */
    private async insertUpdateEvent(row: LeadEntity, lead: Lead): Promise<void> {
        if (!row.LastUpdateKey) return;
        await this.ensureUpdates();
        const [last] = historyOf(row).slice(-1);
        const event: LeadUpdateEntity = {
            ...leadEntity(lead, { partitionKey: row.LastUpdateKey.slice(0, 10), rowKey: row.LastUpdateKey }),
            CreatedTime: lead.receivedAt,
            Occurrences: row.Occurrences,
            Changed: (last?.changed ?? []).join(', '),
            FirstSeenAt: row.CreatedTime,
        };
        try {
            await this.updates.createEntity(event);
        } catch (error) {
            if (statusOf(error) !== 409) throw error;
        }
    }

    /**
     * The rows of a range, newest first, read by key: windows of time walk back from the newest
     * end, each one range query over the partitions it spans, so a page of recent leads costs a few
     * small queries however large the table is (the table returns rows oldest first within a query).
     */
    async *newest(range: LeadRange): AsyncGenerator<LeadEntity> {
        await this.ensureTable();
        const floor = range.fromDay;
        const floorMs = Date.parse(floor);
        let high = range.before ?? addDays(range.toDay, 1);
        // The first window ends at `high` (rows keyed by a clock ahead of this one are read too) but is
        // sized from now: the hours to the end of today hold no row, and would cost a query each.
        const topMs = Math.min(Date.parse(high.slice(0, 24)), Date.now());
        let widthMs = range.want !== undefined && this.rowsPerMs ? Math.max(1000, Math.ceil((range.want / this.rowsPerMs) * 1.5)) : firstWindowMs;
        let startMs = topMs;
        let rowsRead = 0;
        while (high > floor) {
            const lowMs = startMs - widthMs;
            const low = lowMs <= floorMs ? floor : new Date(lowMs).toISOString();
            const keys = `PartitionKey ge ${odataText(low.slice(0, 10))} and PartitionKey le ${odataText(high.slice(0, 10))} and RowKey ge ${odataText(low)} and RowKey lt ${odataText(high)}`;
            const filter = range.filter ? `${keys} and (${range.filter})` : keys;
            const rows: LeadEntity[] = [];
            let crowded = false;
            for await (const row of this.client.listEntities<LeadEntity>({ queryOptions: { filter } })) {
                rows.push(row);
                if (rows.length > maxWindowRows && widthMs > 1) {
                    crowded = true;
                    break;
                }
            }
            if (crowded) {
                widthMs = Math.max(1, Math.floor(widthMs / 4));
                continue;
            }
            rows.sort((a, b) => (a.rowKey < b.rowKey ? 1 : -1));
            rowsRead += rows.length;
            if (rowsRead > 0 && !range.filter) this.rowsPerMs = rowsRead / Math.max(1, topMs - Math.max(lowMs, floorMs));
            yield* rows;
            high = low;
            startMs = Date.parse(low.slice(0, 24));
            widthMs *= rows.length === 0 ? 4 : 2;
        }
    }

    /** One row by its keys, or undefined. */
    async row(keys: LeadRowKeys): Promise<LeadEntity | undefined> {
        await this.ensureTable();
        return readEntity<LeadEntity>(this.client, keys.partitionKey, keys.rowKey);
    }
}
