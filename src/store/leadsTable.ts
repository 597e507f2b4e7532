import type { StorageConnection } from '../storage/connection';
import type { TableClient } from '@azure/data-tables';
import type { Lead } from '../lead/lead';
import { statusOf, tableClientFor, tableCreator } from '../storage/clients';

/**
 * Where a lead's row sits. PartitionKey is the UTC day it was first stored and RowKey starts with
 * the time, so "the leads stored since T" is a range query over a day or two of partitions, whose
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
    Extra?: string;
    etag?: string;
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
        ...extra,
    };
}

export type OccurrenceResult = 'counted' | 'already-counted' | 'missing';

/** The app's leads table, in the layout tools for the marketplace's own lead table understand. */
export class LeadsTable {
    readonly ensureTable: () => Promise<void>;

    constructor(readonly client: TableClient) {
        this.ensureTable = tableCreator(client);
    }

    static async connect(connection: StorageConnection | string, tableName: string): Promise<LeadsTable> {
        return new LeadsTable(await tableClientFor(connection, tableName));
    }

    /** Inserts the lead's row; 'exists' when a row with these keys is already there. */
    async insert(lead: Lead, keys: LeadRowKeys): Promise<'inserted' | 'exists'> {
        await this.ensureTable();
        try {
            await this.client.createEntity(leadEntity(lead, keys));
            return 'inserted';
        } catch (error) {
            if (statusOf(error) === 409) return 'exists';
            throw error;
        }
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

    /** Counts one more occurrence of the lead on its row, once per receipt, under an ETag guard. */
    async countOccurrence(lead: Lead, keys: LeadRowKeys): Promise<OccurrenceResult> {
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
            if (receipts.includes(lead.receiptId)) return 'already-counted';
            const changes = {
                ...keys,
                Occurrences: (row.Occurrences ?? 1) + 1,
                LastSeenAt: lead.receivedAt > row.LastSeenAt ? lead.receivedAt : row.LastSeenAt,
                ReceiptIds: [...receipts, lead.receiptId].slice(-keptReceipts).join(','),
            };
            try {
                await this.client.updateEntity(changes, 'Merge', { etag: row.etag });
                return 'counted';
            } catch (error) {
                if (statusOf(error) !== 412) throw error;
            }
        }
    }

    /** The rows stored on or after a UTC day (`YYYY-MM-DD`), newest first: one range query over the partitions. */
    async listSince(day: string): Promise<LeadEntity[]> {
        await this.ensureTable();
        const rows: LeadEntity[] = [];
        const filter = `PartitionKey ge '${day.replace(/'/g, "''")}'`;
        for await (const row of this.client.listEntities<LeadEntity>({ queryOptions: { filter } })) rows.push(row);
        return rows.sort((a, b) => (a.rowKey < b.rowKey ? 1 : -1));
    }
}
