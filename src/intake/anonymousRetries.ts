import type { Lead } from '../lead/lead';
import { readEntity, statusOf, tableClientFor, TableStore } from '../storage/clients';
import type { StorageConnection } from '../storage/connection';

/**
 * A lead without personal data posted again with the same content within this time of the first
 * POST is taken as the sender's retry of it. Distinct .edu customers who send byte-for-byte the
 * same lead for the same offer within it are indistinguishable from a retry, and count as one lead
 * seen twice (its Occurrences say so).
 */
export const anonymousRetryWindowMs = 10 * 60_000;

interface FirstPost {
    partitionKey: string;
    rowKey: string;
    AnchorReceiptId: string;
    FirstAt: string;
    etag?: string;
}

const partitionKey = 'anonymous';

/**
 * Remembers the first POST of each anonymous lead content for ANONYMOUS_LEADS_TABLE, so that a
 * retry gets the same lead id. Only leads without personal data cost these calls.
 */
export class AnonymousRetries extends TableStore {
    static async connect(connection: StorageConnection | string, tableName: string): Promise<AnonymousRetries> {
        return new AnonymousRetries(await tableClientFor(connection, tableName));
    }

    /** The receipt id of the POST this one repeats, or its own when it repeats none within the window. */
    async anchorFor(lead: Lead, now = new Date()): Promise<string> {
        await this.ensureTable();
        const own: FirstPost = { partitionKey, rowKey: lead.version, AnchorReceiptId: lead.receiptId, FirstAt: now.toISOString() };
        for (let round = 0; round < 5; round++) {
            const existing = await readEntity<FirstPost>(this.client, partitionKey, lead.version);
            if (existing && now.getTime() - Date.parse(existing.FirstAt) <= anonymousRetryWindowMs) return existing.AnchorReceiptId;
            try {
                if (existing) await this.client.updateEntity(own, 'Replace', { etag: existing.etag });
                else await this.client.createEntity(own);
                return lead.receiptId;
            } catch (error) {
                // Another POST of the same content got there first: read what it wrote.
                if (statusOf(error) !== 409 && statusOf(error) !== 412) throw error;
            }
        }
        return lead.receiptId;
    }
}
