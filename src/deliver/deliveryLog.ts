import type { DestinationName } from '../config/settings';
import { decideClaim, type ClaimMessage, type ClaimRecord, type DeliveryState } from './claim';
import type { DeliveryFailure, DeliveryOutcome } from './destination';
import { readEntity, statusOf, tableClientFor, TableStore } from '../storage/clients';
import type { StorageConnection } from '../storage/connection';

export type { DeliveryState };

/** The state of one lead at one destination, one row per pair: PartitionKey lead id, RowKey destination. */
export interface DeliveryRecord extends ClaimRecord {
    leadId: string;
    /** When the first message of this lead at this destination was received (a record from before it: the current version's). */
    firstReceivedAt: string;
    destination: string;
    attempts: number;
    target?: string;
    lastError?: string;
    failureKind?: 'transient' | 'permanent';
    updatedAt: string;
    completedAt?: string;
    /** The first failure of the retry chain under way; cleared by a success, a new chain or the poison queue. */
    failingSince?: string;
    /** The chain's "failing" alert was written. */
    failingAlerted?: boolean;
}

interface DeliveryEntity {
    partitionKey: string;
    rowKey: string;
    State: DeliveryState;
    Attempts: number;
    Ticket?: number;
    ReceiptId?: string;
    Version?: string;
    VersionAt?: string;
    VersionOrder?: string;
    /** Comma-separated, newest last (see ClaimRecord.seenVersions). */
    Versions?: string;
    /** When the first message of this lead that reached the destination was received. */
    FirstReceivedAt?: string;
    DeliveredVersion?: string;
    Scheduled?: number;
    Poisoned?: boolean;
    Target?: string;
    LastError?: string;
    FailureKind?: 'transient' | 'permanent' | '';
    LeaseUntil?: string;
    UpdatedAt: string;
    CompletedAt?: string;
    FailingSince?: string;
    FailingAlerted?: boolean;
    etag?: string;
}

/** The right to deliver one version of a lead to one destination until the lease ends. */
export interface Lease {
    record: DeliveryRecord;
    etag: string;
    mode: 'create' | 'update';
    /**
     * An earlier attempt took the record's lease and never wrote how it ended: it died mid-call, or
     * could not write the answer. Its call may have reached the destination.
     */
    interrupted: boolean;
    /** The record was `uncertain`: the last call, perhaps of another version, may have reached the destination. */
    afterUncertain: boolean;
    /** The record showed a failure, an uncertain call, a lease never ended or the poison queue: a success clears the attention index. */
    troubled: boolean;
}

export type Acquisition = { status: 'acquired'; lease: Lease } | { status: 'repeat' | 'stale' | 'busy'; record: DeliveryRecord | undefined };

function toRecord(entity: DeliveryEntity): DeliveryRecord {
    return {
        leadId: entity.partitionKey,
        destination: entity.rowKey,
        state: entity.State,
        attempts: entity.Attempts,
        ticket: entity.Ticket ?? 1,
        receiptId: entity.ReceiptId ?? '',
        version: entity.Version ?? '',
        versionAt: entity.VersionAt ?? '',
        firstReceivedAt: entity.FirstReceivedAt ?? entity.VersionAt ?? '',
        // Records from before storage's order: the receiving time was the order then.
        versionOrder: entity.VersionOrder ?? entity.VersionAt ?? '',
        seenVersions: entity.Versions ? entity.Versions.split(',') : entity.Version ? [entity.Version] : [],
        // Records from before versions: whatever they delivered counts as the version now asked for.
        deliveredVersion: entity.DeliveredVersion ?? (entity.Version === undefined && ['delivered', 'submitted'].includes(entity.State) ? '?' : ''),
        scheduled: entity.Scheduled ?? 0,
        poisoned: entity.Poisoned ?? false,
        target: entity.Target || undefined,
        lastError: entity.LastError || undefined,
        failureKind: entity.FailureKind || undefined,
        leaseUntil: entity.LeaseUntil || undefined,
        updatedAt: entity.UpdatedAt,
        completedAt: entity.CompletedAt || undefined,
        failingSince: entity.FailingSince || undefined,
        failingAlerted: entity.FailingAlerted === true,
    };
}

/** Since when the record's retry chain has been failing (this failure, if it had not), and whether that was alerted. */
export function failingOf(record: Pick<DeliveryRecord, 'failingSince' | 'failingAlerted'>, now = new Date()): { since: string; alerted: boolean } {
    return { since: record.failingSince ?? now.toISOString(), alerted: record.failingAlerted === true };
}

/** A message of one lead, at one destination, asking to deliver. */
export interface DeliveryRequest extends ClaimMessage {
    leadId: string;
    destination: DestinationName;
    receivedAt: string;
}

/** Enough versions to tell any sender's retry from an update; a lead has a handful at most. */
const keptVersions = 16;

/** The row of a delivery attempt under way: one attempt more than before, leased until now + leaseMs. */
export function leasedEntity(request: DeliveryRequest, before: DeliveryEntity | undefined, sameChain: boolean, leaseMs: number, now: Date): DeliveryEntity {
    return {
        partitionKey: request.leadId,
        rowKey: request.destination,
        State: 'pending',
        Attempts: (before?.Attempts ?? 0) + 1,
        // A new chain (another POST) numbers its own links; the old chain's links carry another receipt.
        Ticket: sameChain ? Math.max(before?.Ticket ?? 0, request.ticket) : request.ticket,
        ReceiptId: sameChain ? (before?.ReceiptId ?? request.receiptId) : request.receiptId,
        Version: request.version,
        VersionAt: request.receivedAt,
        VersionOrder: request.order,
        // Written with the row only: a Merge keeps the first.
        ...(before ? {} : { FirstReceivedAt: request.receivedAt }),
        Versions: [...(before ? toRecord(before).seenVersions.filter((seen) => seen !== request.version) : []), request.version].slice(-keptVersions).join(','),
        DeliveredVersion: before ? toRecord(before).deliveredVersion : '',
        Scheduled: 0,
        Poisoned: false,
        LeaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
        UpdatedAt: now.toISOString(),
        ...(before?.Target ? { Target: before.Target } : {}),
        // A new chain fails afresh; the same chain keeps the time of its first failure (a Merge leaves it).
        ...(before && !sameChain ? { FailingSince: '', FailingAlerted: false } : {}),
    };
}

/**
 * Where each lead stands at each destination. The row doubles as a lease: only the holder of a
 * live `pending` lease delivers, so two copies of one lead never reach a destination at once; a
 * finished row makes a repeated message only count; and the chain fields (ticket, scheduled,
 * poisoned) let every copy of a retry message agree on which one goes on (see decideClaim).
 */
export class DeliveryLog extends TableStore {
    static async connect(connection: StorageConnection | string, tableName: string): Promise<DeliveryLog> {
        return new DeliveryLog(await tableClientFor(connection, tableName));
    }

    /** Takes the lease when this message is the one to deliver; otherwise says why not. */
    async acquire(request: DeliveryRequest, leaseMs: number, now = new Date()): Promise<Acquisition> {
        await this.ensureTable();
        // Most leads are new to a destination: try to create the row at once, saving a read.
        const fresh = leasedEntity(request, undefined, true, leaseMs, now);
        try {
            const written = await this.client.createEntity(fresh);
            return { status: 'acquired', lease: { record: toRecord(fresh), etag: written.etag ?? '*', mode: 'create', interrupted: false, afterUncertain: false, troubled: false } };
        } catch (error) {
            if (statusOf(error) !== 409) throw error;
        }
        for (let round = 0; round < 5; round++) {
            const existing = await readEntity<DeliveryEntity>(this.client, request.leadId, request.destination);
            const record = existing && toRecord(existing);
            const decision = decideClaim(record, request, now.getTime());
            if (decision.kind !== 'acquire') return { status: decision.kind, record };
            const entity = leasedEntity(request, existing, record?.receiptId === request.receiptId, leaseMs, now);
            try {
                const written = existing ? await this.client.updateEntity(entity, 'Merge', { etag: existing.etag }) : await this.client.createEntity(entity);
                const [interrupted, afterUncertain] = [existing?.State === 'pending', existing?.State === 'uncertain'];
                const troubled = interrupted || afterUncertain || existing?.State === 'failed' || existing?.Poisoned === true;
                return { status: 'acquired', lease: { record: toRecord({ ...existing, ...entity }), etag: written.etag ?? '*', mode: decision.mode, interrupted, afterUncertain, troubled } };
            } catch (error) {
                // Another copy got there first: look again.
                if (statusOf(error) !== 409 && statusOf(error) !== 412) throw error;
            }
        }
        return { status: 'busy', record: undefined };
    }

    private async update(lease: Lease, changes: Partial<DeliveryEntity>): Promise<void> {
        const written = await this.client.updateEntity({ partitionKey: lease.record.leadId, rowKey: lease.record.destination, UpdatedAt: new Date().toISOString(), ...changes }, 'Merge', { etag: lease.etag });
        lease.etag = written.etag ?? lease.etag;
    }

    /**
     * The call was cut off, but the destination may still be working on it: no other call of this
     * lead goes there until `until` (the lease stays `pending`, and ends then).
     */
    async hold(lease: Lease, until: Date): Promise<void> {
        await this.update(lease, { LeaseUntil: until.toISOString() });
        lease.record.leaseUntil = until.toISOString();
    }

    /** The delivery ended: the destination has this version (or it was skipped, or its fate is uncertain). */
    async complete(lease: Lease, outcome: DeliveryOutcome): Promise<void> {
        const now = new Date().toISOString();
        const confirmed = outcome.state === 'delivered' || outcome.state === 'submitted';
        await this.update(lease, {
            State: outcome.state,
            CompletedAt: now,
            LastError: 'reason' in outcome ? outcome.reason : '',
            FailureKind: '',
            LeaseUntil: '',
            FailingSince: '',
            FailingAlerted: false,
            ...(confirmed ? { DeliveredVersion: lease.record.version } : {}),
            ...(confirmed && outcome.target ? { Target: outcome.target } : {}),
        });
    }

    /**
     * The attempt failed; `next` says whether the chain's next link is on the queue or the lead went
     * to poison. `failing` is the chain's first failure and whether its "failing" alert was written
     * (by default: as recorded, or this failure); the poison queue ends the chain and clears it.
     */
    async fail(lease: Lease, failure: DeliveryFailure, next: { scheduled: number } | { poisoned: true } | undefined, failing = failingOf(lease.record)): Promise<void> {
        const poisoned = next !== undefined && 'poisoned' in next;
        await this.update(lease, {
            State: 'failed',
            LastError: failure.message.slice(0, 2000),
            FailureKind: failure.kind,
            LeaseUntil: '',
            FailingSince: poisoned ? '' : failing.since,
            FailingAlerted: !poisoned && failing.alerted,
            ...(next && 'scheduled' in next ? { Scheduled: next.scheduled } : {}),
            ...(poisoned ? { Poisoned: true } : {}),
        });
    }

    /** An uncertain delivery's lead is in the poison queue, for an operator to decide on. */
    async markPoisoned(leadId: string, destination: string): Promise<void> {
        await this.client.updateEntity({ partitionKey: leadId, rowKey: destination, Poisoned: true }, 'Merge');
    }

    /**
     * When each record at `destination` that ended in `state` since a time completed: a filtered
     * scan the table service runs (the table is keyed by lead), for the daily check and the
     * console, not the delivery path.
     */
    async completedSince(destination: string, state: DeliveryState, since: Date): Promise<string[]> {
        await this.ensureTable();
        const times: string[] = [];
        const filter = `RowKey eq '${destination.replace(/'/g, "''")}' and State eq '${state}' and CompletedAt ge '${since.toISOString()}'`;
        for await (const entity of this.client.listEntities<DeliveryEntity>({ queryOptions: { filter, select: ['CompletedAt'] } })) if (entity.CompletedAt) times.push(entity.CompletedAt);
        return times.sort();
    }

    /**
     * When each destination last took a lead (delivered or submitted) since a time: one filtered
     * scan for all destinations, made by the daily check, never by a page of the console.
     */
    async lastTakenSince(since: Date): Promise<Map<string, string>> {
        await this.ensureTable();
        const last = new Map<string, string>();
        const filter = `CompletedAt ge '${since.toISOString()}' and (State eq 'delivered' or State eq 'submitted')`;
        for await (const entity of this.client.listEntities<DeliveryEntity>({ queryOptions: { filter, select: ['RowKey', 'CompletedAt'] } })) {
            const at = entity.CompletedAt ?? '';
            if (at > (last.get(entity.rowKey) ?? '')) last.set(entity.rowKey, at);
        }
        return last;
    }

    /** One lead's record at one destination, by its keys: a point read, which every store answers from its index. */
    async get(leadId: string, destination: string): Promise<DeliveryRecord | undefined> {
        const entity = await readEntity<DeliveryEntity>(this.client, leadId, destination);
        return entity && toRecord(entity);
    }

    /** Every destination's record for one lead. */
    async list(leadId: string): Promise<DeliveryRecord[]> {
        await this.ensureTable();
        const records: DeliveryRecord[] = [];
        const filter = `PartitionKey eq '${leadId.replace(/'/g, "''")}'`;
        for await (const entity of this.client.listEntities<DeliveryEntity>({ queryOptions: { filter } })) records.push(toRecord(entity));
        return records;
    }
}
