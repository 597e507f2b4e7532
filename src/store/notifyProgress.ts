import type { StorageConnection } from '../storage/connection';
import type { TableClient } from '@azure/data-tables';
import type { Progress } from '../notify/cursor';
import { statusOf, tableClientFor, tableCreator } from '../storage/clients';

interface ProgressEntity {
    partitionKey: string;
    rowKey: string;
    Cursor: string;
    RecentParts: number;
    LeaseUntil: string;
    UpdatedAt: string;
    LastSentAt?: string;
    etag?: string;
    [part: `Recent${number}`]: string;
}

/** A string property holds 32 K characters; the recent positions are spread over several. */
const partLength = 30_000;
const maxParts = 30;

function packRecent(recent: readonly string[]): Record<string, string | number> {
    const joined = recent.join(',');
    const parts: Record<string, string | number> = {};
    let count = 0;
    for (let at = 0; at < joined.length && count < maxParts; at += partLength) parts[`Recent${count++}`] = joined.slice(at, at + partLength);
    if (count * partLength < joined.length) throw new Error(`Too many leads (${recent.length}) were notified within the settle window to record.`);
    return { ...parts, RecentParts: count };
}

function unpackRecent(entity: ProgressEntity): string[] {
    const joined = Array.from({ length: entity.RecentParts ?? 0 }, (_, i) => entity[`Recent${i}`] ?? '').join('');
    return joined ? joined.split(',') : [];
}

/** The right to send digests for one source until it expires, and the progress read with it. */
export interface Claim {
    progress: Progress;
    etag: string;
    leaseUntil: string;
}

/**
 * Notification progress per source table, in NOTIFY_STATE_TABLE. Every change is guarded by the
 * entity's ETag, and a run must first claim a lease: two overlapping runs, or two instances,
 * cannot both send.
 */
export class NotifyProgressStore {
    private readonly ensureTable: () => Promise<void>;

    constructor(
        private readonly client: TableClient,
        private readonly source: string,
    ) {
        this.ensureTable = tableCreator(client);
    }

    static async connect(connection: StorageConnection | string, tableName: string, source: string): Promise<NotifyProgressStore> {
        return new NotifyProgressStore(await tableClientFor(connection, tableName), source);
    }

    /** Takes the lease, or returns undefined when another run holds it. */
    async claim(leaseMs: number, now = new Date()): Promise<Claim | undefined> {
        await this.ensureTable();
        const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
        let existing: ProgressEntity | undefined;
        try {
            existing = await this.client.getEntity<ProgressEntity>('progress', this.source);
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
        }
        if (existing && existing.LeaseUntil && Date.parse(existing.LeaseUntil) > now.getTime()) return undefined;
        const progress: Progress = existing ? { cursor: existing.Cursor, recent: unpackRecent(existing) } : { cursor: '', recent: [] };
        try {
            const written = existing
                ? await this.client.updateEntity({ partitionKey: 'progress', rowKey: this.source, LeaseUntil: leaseUntil, UpdatedAt: now.toISOString() }, 'Merge', { etag: existing.etag })
                : await this.client.createEntity({ partitionKey: 'progress', rowKey: this.source, Cursor: '', RecentParts: 0, LeaseUntil: leaseUntil, UpdatedAt: now.toISOString() });
            return { progress, etag: written.etag ?? '', leaseUntil };
        } catch (error) {
            if (statusOf(error) === 409 || statusOf(error) === 412) return undefined;
            throw error;
        }
    }

    /** Records progress after a digest was accepted; fails if the lease was lost. */
    async save(claim: Claim, progress: Progress, sent: boolean): Promise<void> {
        const now = new Date().toISOString();
        const entity = {
            partitionKey: 'progress',
            rowKey: this.source,
            Cursor: progress.cursor,
            ...packRecent(progress.recent),
            UpdatedAt: now,
            ...(sent ? { LastSentAt: now } : {}),
        };
        // Replace, so that Recent parts no longer needed are dropped; the lease stays as claimed.
        const written = await this.client.updateEntity({ ...entity, LeaseUntil: claim.leaseUntil }, 'Replace', { etag: claim.etag });
        claim.etag = written.etag ?? claim.etag;
        claim.progress = progress;
    }

    async release(claim: Claim): Promise<void> {
        await this.client.updateEntity({ partitionKey: 'progress', rowKey: this.source, LeaseUntil: '' }, 'Merge', { etag: claim.etag }).catch(() => undefined);
    }
}
