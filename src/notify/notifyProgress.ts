import { gunzipSync, gzipSync } from 'node:zlib';
import type { TableClient } from '@azure/data-tables';
import type { Progress } from './cursor';
import { readEntity, statusOf, tableClientFor, TableStore } from '../storage/clients';
import type { StorageConnection } from '../storage/connection';

interface ProgressEntity {
    partitionKey: string;
    rowKey: string;
    Cursor: string;
    RecentParts: number;
    PendingParts?: number;
    LeaseUntil: string;
    UpdatedAt: string;
    LastSentAt?: string;
    MailDownSince?: string;
    MailDownReason?: string;
    etag?: string;
    [part: `Recent${number}` | `Pending${number}`]: string;
}

/**
 * A string property holds 32 K characters, stored as UTF-16, and an entity at most 1 MiB: ten parts
 * of recent positions (about 10,000 leads notified within a settle window) and five of the pending
 * digest stay under it (15 × 60 KB). A digest kept for a refused recipient has a row of its own.
 */
const partLength = 30_000;
const maxRecentParts = 10;
const maxPendingParts = 5;
const maxRetryParts = 15;

type PartPrefix = 'Recent' | 'Pending' | 'Mail';

function pack(prefix: PartPrefix, joined: string, maxParts: number): Record<string, string | number> | undefined {
    const parts: Record<string, string | number> = {};
    let count = 0;
    for (let at = 0; at < joined.length; at += partLength) {
        if (count === maxParts) return undefined;
        parts[`${prefix}${count++}`] = joined.slice(at, at + partLength);
    }
    return { ...parts, [`${prefix}Parts`]: count };
}

/** A part stored as text; anything else (a row written by something else) reads as empty. */
function text(value: unknown): string {
    return typeof value === 'string' ? value : '';
}

function unpack(entity: object, prefix: PartPrefix): string {
    const parts = entity as Partial<Record<string, unknown>>;
    const count = Number(parts[`${prefix}Parts`] ?? 0);
    return Array.from({ length: count }, (_, i) => text(parts[`${prefix}${i}`])).join('');
}

function blobOf(value: unknown): string {
    return gzipSync(JSON.stringify(value)).toString('base64');
}

function fromBlob(blob: string): unknown {
    if (!blob) return undefined;
    try {
        return JSON.parse(gunzipSync(Buffer.from(blob, 'base64')).toString('utf8'));
    } catch {
        return undefined;
    }
}

/** A mail written down before it is sent, as entity properties (gzip + base64 in parts); undefined when it is too large to keep. */
export function packMail(prefix: 'Pending' | 'Mail', mail: unknown, maxParts: number): Record<string, string | number> | undefined {
    return pack(prefix, blobOf(mail), maxParts);
}

/** The mail `packMail` wrote into an entity, or undefined when there is none (or it cannot be read). */
export function unpackMail(entity: object, prefix: 'Pending' | 'Mail'): unknown {
    return fromBlob(unpack(entity, prefix));
}

/** The row a lease lives on. */
export interface LeaseKeys {
    partitionKey: string;
    rowKey: string;
}

/**
 * Takes a lease on a row read just before (`existing`, whose ETag guards the write), or creates the
 * row with `fresh` when there was none. Returns the new ETag, or undefined when another run holds
 * the lease or wrote the row first: two overlapping runs, or two instances, cannot both send.
 */
export async function takeLease(
    client: TableClient,
    keys: LeaseKeys,
    existing: { LeaseUntil?: string; etag?: string } | undefined,
    leaseUntil: string,
    now: Date,
    fresh: Record<string, string | number | boolean>,
): Promise<string | undefined> {
    if (existing?.LeaseUntil && Date.parse(existing.LeaseUntil) > now.getTime()) return undefined;
    try {
        const written = existing
            ? await client.updateEntity({ ...keys, LeaseUntil: leaseUntil, UpdatedAt: now.toISOString() }, 'Merge', { etag: existing.etag })
            : await client.createEntity({ ...keys, ...fresh, LeaseUntil: leaseUntil, UpdatedAt: now.toISOString() });
        return written.etag ?? '';
    } catch (error) {
        if (statusOf(error) === 409 || statusOf(error) === 412) return undefined;
        throw error;
    }
}

/** Gives a lease up early; a lease lost meanwhile is the other run's, and left alone. */
export async function releaseLease(client: TableClient, keys: LeaseKeys, etag: string): Promise<void> {
    await client.updateEntity({ ...keys, LeaseUntil: '' }, 'Merge', { etag }).catch(() => undefined);
}

/** Text as part of a table key: Azure Tables refuses `/ \\ # ?` and control characters in keys. */
export function tableKeySafe(text: string): string {
    // eslint-disable-next-line no-control-regex -- table keys may not hold control characters
    return text.replace(/[/\\#?\u0000-\u001f\u007f]/g, '_');
}

/** A digest written down before it is sent, so that after a crash it is sent again as the same mail. */
export interface PendingDigest {
    id: string;
    positions: string[];
    /** The recipients still to send it to; absent in digests written before recipients were kept (then: NOTIFY_TO). */
    to?: string[];
    /** Times it was sent again to recipients the mail server had refused (they are tried a few times, then set aside). */
    retries?: number;
    subject: string;
    text: string;
    html: string;
}

function packPending(pending: PendingDigest | undefined): Record<string, string | number> {
    if (!pending) return { PendingParts: 0 };
    // Too large to keep (a digest of thousands of leads): sent as before, where a crash means a repeat, never a miss.
    return packMail('Pending', pending, maxPendingParts) ?? { PendingParts: 0 };
}

/** Digests have failed to go since `since`, for a reason that is not a lead's (the mail server, the sender, the account). */
export interface MailDown {
    since: string;
    /** The last failure: reply codes or an error code, never a lead's content. */
    reason: string;
}

/** The right to send digests for one source until it expires, and the progress read with it. */
export interface Claim {
    progress: Progress;
    pending: PendingDigest | undefined;
    mailDown: MailDown | undefined;
    /** When a digest last went, for the console. */
    lastSentAt: string | undefined;
    etag: string;
    leaseUntil: string;
}

function mailDownOf(entity: Partial<ProgressEntity> | undefined): MailDown | undefined {
    return entity?.MailDownSince ? { since: entity.MailDownSince, reason: text(entity.MailDownReason) } : undefined;
}

/** A lead the mail server refused in every digest, or a recipient it refused: kept for a person to see. */
export interface SetAside {
    kind: 'lead' | 'recipient';
    /** The lead id, or the recipient's address (the publisher's own, never a customer's). */
    subject: string;
    reason: string;
    at: string;
    source: string;
}

/**
 * Notification progress per source table, in NOTIFY_STATE_TABLE. Every change is guarded by the
 * entity's ETag, and a run must first claim a lease: two overlapping runs, or two instances,
 * cannot both send. What was set aside lives in the same table, in the partition `set-aside`.
 */
export class NotifyProgressStore extends TableStore {
    constructor(
        client: TableClient,
        private readonly source: string,
    ) {
        super(client);
    }

    static async connect(connection: StorageConnection | string, tableName: string, source: string): Promise<NotifyProgressStore> {
        return new NotifyProgressStore(await tableClientFor(connection, tableName), source);
    }

    /** Takes the lease, or returns undefined when another run holds it. */
    async claim(leaseMs: number, now = new Date()): Promise<Claim | undefined> {
        await this.ensureTable();
        const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
        const existing = await readEntity<ProgressEntity>(this.client, 'progress', this.source);
        const recent = existing ? unpack(existing, 'Recent') : '';
        const progress: Progress = { cursor: existing?.Cursor ?? '', recent: recent ? recent.split(',') : [] };
        const etag = await takeLease(this.client, { partitionKey: 'progress', rowKey: this.source }, existing, leaseUntil, now, { Cursor: '', RecentParts: 0 });
        if (etag === undefined) return undefined;
        return { progress, pending: existing ? (unpackMail(existing, 'Pending') as PendingDigest | undefined) : undefined, mailDown: mailDownOf(existing), lastSentAt: existing?.LastSentAt, etag, leaseUntil };
    }

    /**
     * Records progress, and the digest about to be sent (or none); fails if the lease was lost. A
     * digest sent ends the record that mail is down. Replaced whole: what it keeps is written again.
     */
    async save(claim: Claim, progress: Progress, options: { sent?: boolean; pending?: PendingDigest } = {}): Promise<void> {
        const now = new Date().toISOString();
        const recent = pack('Recent', progress.recent.join(','), maxRecentParts);
        if (!recent) throw new Error(`Too many leads (${progress.recent.length}) were notified within the settle window to record.`);
        const down = options.sent ? undefined : claim.mailDown;
        const lastSentAt = options.sent ? now : claim.lastSentAt;
        const entity = {
            partitionKey: 'progress',
            rowKey: this.source,
            Cursor: progress.cursor,
            ...recent,
            ...packPending(options.pending),
            UpdatedAt: now,
            ...(lastSentAt ? { LastSentAt: lastSentAt } : {}),
            ...(down ? { MailDownSince: down.since, MailDownReason: down.reason } : {}),
        };
        // Replace, so that parts no longer needed are dropped; the lease stays as claimed.
        const written = await this.client.updateEntity({ ...entity, LeaseUntil: claim.leaseUntil }, 'Replace', { etag: claim.etag });
        claim.etag = written.etag ?? claim.etag;
        claim.progress = progress;
        claim.pending = options.pending;
        claim.mailDown = down;
        claim.lastSentAt = lastSentAt;
    }

    /** Records that mail is down (kept until a digest is sent), for the console's health strip; fails if the lease was lost. */
    async markMailDown(claim: Claim, down: MailDown): Promise<void> {
        const entity = { partitionKey: 'progress', rowKey: this.source, MailDownSince: down.since, MailDownReason: down.reason, UpdatedAt: new Date().toISOString() };
        const written = await this.client.updateEntity(entity, 'Merge', { etag: claim.etag });
        claim.etag = written.etag ?? claim.etag;
        claim.mailDown = down;
    }

    async release(claim: Claim): Promise<void> {
        await releaseLease(this.client, { partitionKey: 'progress', rowKey: this.source }, claim.etag);
    }

    /**
     * Keeps a sent digest for the recipients the mail server refused, in the partition `retry`, to be
     * sent to them again on the next runs. Returns false when it is too large to keep.
     */
    async keepForRetry(digest: PendingDigest): Promise<boolean> {
        const parts = packMail('Mail', digest, maxRetryParts);
        if (!parts) return false;
        await this.ensureTable();
        await this.client.upsertEntity({ partitionKey: 'retry', rowKey: `${this.source}_${digest.id}`, ...parts, UpdatedAt: new Date().toISOString() }, 'Replace');
        return true;
    }

    /** The digests kept for refused recipients, oldest first. */
    async retries(): Promise<PendingDigest[]> {
        await this.ensureTable();
        const digests: { at: string; digest: PendingDigest }[] = [];
        const filter = `PartitionKey eq 'retry' and RowKey ge '${this.source}_' and RowKey lt '${this.source}_~'`;
        for await (const row of this.client.listEntities({ queryOptions: { filter } })) {
            const digest = unpackMail(row, 'Mail') as PendingDigest | undefined;
            if (digest) digests.push({ at: text(row.UpdatedAt), digest });
        }
        return digests.sort((a, b) => (a.at < b.at ? -1 : 1)).map((d) => d.digest);
    }

    async dropRetry(id: string): Promise<void> {
        await this.client.deleteEntity('retry', `${this.source}_${id}`).catch((error: unknown) => {
            if (statusOf(error) !== 404) throw error;
        });
    }

    async setAside(entry: Omit<SetAside, 'source' | 'at'>, now = new Date()): Promise<void> {
        await this.ensureTable();
        const rowKey = `${this.source}_${entry.kind}_${tableKeySafe(entry.subject)}`;
        await this.client.upsertEntity({ partitionKey: 'set-aside', rowKey, Kind: entry.kind, Subject: entry.subject, Reason: entry.reason, At: now.toISOString(), Source: this.source }, 'Replace');
    }
}

/** Everything set aside in a NOTIFY_STATE_TABLE, newest first. */
export async function listSetAside(connection: StorageConnection | string, tableName: string): Promise<SetAside[]> {
    const client = await tableClientFor(connection, tableName);
    const entries: SetAside[] = [];
    try {
        for await (const row of client.listEntities<{ Kind: 'lead' | 'recipient'; Subject: string; Reason: string; At: string; Source: string }>({ queryOptions: { filter: "PartitionKey eq 'set-aside'" } })) {
            entries.push({ kind: row.Kind, subject: row.Subject, reason: row.Reason, at: row.At, source: row.Source });
        }
    } catch (error) {
        if (statusOf(error) !== 404) throw error;
    }
    return entries.sort((a, b) => (a.at < b.at ? 1 : -1));
}

/** When the last digest went out, and each source whose digests fail now: the progress rows of a NOTIFY_STATE_TABLE, for the console. */
export async function digestProgress(connection: StorageConnection | string, tableName: string): Promise<{ lastSentAt?: string; mailDown: MailDown[] }> {
    const client = await tableClientFor(connection, tableName);
    let lastSentAt: string | undefined;
    const mailDown: MailDown[] = [];
    try {
        const select = ['LastSentAt', 'MailDownSince', 'MailDownReason'];
        for await (const row of client.listEntities<{ LastSentAt?: string; MailDownSince?: string; MailDownReason?: string }>({ queryOptions: { filter: "PartitionKey eq 'progress'", select } })) {
            if (row.LastSentAt && (!lastSentAt || row.LastSentAt > lastSentAt)) lastSentAt = row.LastSentAt;
            if (row.MailDownSince) mailDown.push({ since: row.MailDownSince, reason: row.MailDownReason ?? '' });
        }
    } catch (error) {
        if (statusOf(error) !== 404) throw error;
    }
    return { ...(lastSentAt ? { lastSentAt } : {}), mailDown };
}
