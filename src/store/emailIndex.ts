import { createHash } from 'node:crypto';
import { readEntity, statusOf, tableClientFor, TableStore } from '../storage/clients';
import type { StorageConnection } from '../storage/connection';

/** `<LEADS_TABLE>Emails`. */
export function emailsTableName(leadsTable: string): string {
    return `${leadsTable}Emails`;
}

/** Text that is one e-mail address and nothing else, as a search box gets it. */
export function isEmailAddress(text: string): boolean {
    return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text.trim());
}

/**
 * The key of an address: SHA-256 of it trimmed and lower-cased, in hex. A hash keeps the address out
 * of table keys, which appear in storage logs and request URLs; it is not meant to hide it from
 * whoever can read the account, which holds the leads table with the address in clear, so a keyed
 * hash would add a secret to manage and no protection. SHA-256 is in node:crypto, and its 64 hex
 * digits are a valid table key.
 */
export function emailKey(address: string): string {
    return createHash('sha256').update(address.trim().toLowerCase()).digest('hex');
}

/** Rows kept per address: far more leads than one person sends; the oldest go first. */
const keptRows = 200;
const rowKey = 'leads';

interface EmailEntity {
    partitionKey: string;
    rowKey: string;
    /** The leads' rows (`partition/row`), comma-separated, newest last. */
    Rows: string;
    etag?: string;
}

/**
 * The leads of each e-mail address, by a hash of it: one row per address, read by its keys, so a
 * search by address costs one point read however many leads the table holds.
 */
export class EmailIndex extends TableStore {
    static async connect(connection: StorageConnection | string, leadsTable: string): Promise<EmailIndex> {
        return new EmailIndex(await tableClientFor(connection, emailsTableName(leadsTable)));
    }

    /** Adds a lead's row under its address: one insert for an address seen first; a read and a write after. */
    async add(address: string, row: string): Promise<void> {
        if (!address.trim()) return;
        await this.ensureTable();
        const partitionKey = emailKey(address);
        let existing: EmailEntity | undefined;
        for (;;) {
            try {
                if (!existing) {
                    await this.client.createEntity<EmailEntity>({ partitionKey, rowKey, Rows: row });
                    return;
                }
                const rows = existing.Rows.split(',').filter(Boolean);
                if (rows.includes(row)) return;
                await this.client.updateEntity({ partitionKey, rowKey, Rows: [...rows, row].slice(-keptRows).join(',') }, 'Merge', { etag: existing.etag });
                return;
            } catch (error) {
                // The address has a row, or another lead of it was added meanwhile: read it again.
                if (statusOf(error) !== 409 && statusOf(error) !== 412) throw error;
            }
            existing = await readEntity<EmailEntity>(this.client, partitionKey, rowKey);
        }
    }

    /** The rows of the leads with this address, newest first. */
    async rows(address: string): Promise<string[]> {
        const entity = await readEntity<EmailEntity>(this.client, emailKey(address), rowKey);
        return (entity?.Rows.split(',').filter(Boolean) ?? []).reverse();
    }
}
