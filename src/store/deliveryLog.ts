import type { StorageConnection } from '../storage/connection';
import type { TableClient } from '@azure/data-tables';
import type { DestinationName } from '../config/settings';
import type { DeliveryFailure, DeliveryOutcome } from '../deliver/destination';
import { statusOf, tableClientFor, tableCreator } from '../storage/clients';

export type DeliveryState = 'pending' | 'delivered' | 'submitted' | 'skipped' | 'failed';

/** The state of one lead at one destination, one row per pair: PartitionKey lead id, RowKey destination. */
export interface DeliveryRecord {
    leadId: string;
    destination: string;
    state: DeliveryState;
    attempts: number;
    target?: string;
    lastError?: string;
    failureKind?: 'transient' | 'permanent';
    leaseUntil?: string;
    updatedAt: string;
    completedAt?: string;
}

interface DeliveryEntity {
    partitionKey: string;
    rowKey: string;
    State: DeliveryState;
    Attempts: number;
    Target?: string;
    LastError?: string;
    FailureKind?: 'transient' | 'permanent' | '';
    LeaseUntil?: string;
    UpdatedAt: string;
    CompletedAt?: string;
    etag?: string;
}

/** The right to deliver one lead to one destination until `leaseUntil`. */
export interface Lease {
    record: DeliveryRecord;
    etag: string;
}

export type Acquisition = { status: 'acquired'; lease: Lease } | { status: 'done'; record: DeliveryRecord } | { status: 'busy'; record: DeliveryRecord };

const finished: readonly DeliveryState[] = ['delivered', 'submitted', 'skipped'];

function toRecord(entity: DeliveryEntity): DeliveryRecord {
    return {
        leadId: entity.partitionKey,
        destination: entity.rowKey,
        state: entity.State,
        attempts: entity.Attempts,
        target: entity.Target,
        lastError: entity.LastError,
        failureKind: entity.FailureKind || undefined,
        leaseUntil: entity.LeaseUntil,
        updatedAt: entity.UpdatedAt,
        completedAt: entity.CompletedAt,
    };
}

/** The row of a delivery attempt under way: one attempt more than before, leased until now + leaseMs. */
function pendingEntity(leadId: string, destination: string, leaseMs: number, now: Date, before: DeliveryEntity | undefined): DeliveryEntity {
    return {
        partitionKey: leadId,
        rowKey: destination,
        State: 'pending',
        Attempts: (before?.Attempts ?? 0) + 1,
        LeaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
        UpdatedAt: now.toISOString(),
        ...(before?.Target ? { Target: before.Target } : {}),
    };
}

/**
 * Where each lead stands at each destination. The row doubles as a lease: only the holder of a
 * live `pending` lease delivers, so two copies of one lead never reach a destination at once, and
 * a finished row makes a redelivered message skip that destination.
 */
export class DeliveryLog {
    private readonly ensureTable: () => Promise<void>;

    constructor(private readonly client: TableClient) {
        this.ensureTable = tableCreator(client);
    }

    static async connect(connection: StorageConnection | string, tableName: string): Promise<DeliveryLog> {
        return new DeliveryLog(await tableClientFor(connection, tableName));
    }

    private async read(leadId: string, destination: string): Promise<DeliveryEntity | undefined> {
        await this.ensureTable();
        try {
            return await this.client.getEntity<DeliveryEntity>(leadId, destination);
        } catch (error) {
            if (statusOf(error) === 404) return undefined;
            throw error;
        }
    }

    /** Takes the lease for a delivery attempt, unless the destination has the lead or someone else is delivering it. */
    async acquire(leadId: string, destination: DestinationName, leaseMs: number, now = new Date()): Promise<Acquisition> {
        await this.ensureTable();
        const first = await this.createLease(leadId, destination, leaseMs, now);
        if (first) return first;
        for (let round = 0; round < 5; round++) {
            const existing = await this.read(leadId, destination);
            if (existing && finished.includes(existing.State)) return { status: 'done', record: toRecord(existing) };
            if (existing?.State === 'pending' && existing.LeaseUntil && Date.parse(existing.LeaseUntil) > now.getTime()) {
                return { status: 'busy', record: toRecord(existing) };
            }
            const entity = pendingEntity(leadId, destination, leaseMs, now, existing);
            try {
                const written = existing?.etag
                    ? await this.client.updateEntity(entity, 'Merge', { etag: existing.etag })
                    : await this.client.createEntity(entity);
                return { status: 'acquired', lease: { record: toRecord({ ...existing, ...entity }), etag: written.etag ?? '*' } };
            } catch (error) {
                // Another instance got there first: look again.
                if (statusOf(error) !== 409 && statusOf(error) !== 412) throw error;
            }
        }
        return { status: 'busy', record: { leadId, destination, state: 'pending', attempts: 0, updatedAt: now.toISOString() } };
    }

    /** Most leads are new to a destination: try to create the row at once, saving a read. */
    private async createLease(leadId: string, destination: DestinationName, leaseMs: number, now: Date): Promise<Acquisition | undefined> {
        const entity = pendingEntity(leadId, destination, leaseMs, now, undefined);
        try {
            const written = await this.client.createEntity(entity);
            return { status: 'acquired', lease: { record: toRecord(entity), etag: written.etag ?? '*' } };
        } catch (error) {
            if (statusOf(error) === 409) return undefined;
            throw error;
        }
    }

    private async update(lease: Lease, changes: Partial<DeliveryEntity>): Promise<void> {
        const written = await this.client.updateEntity(
            { partitionKey: lease.record.leadId, rowKey: lease.record.destination, UpdatedAt: new Date().toISOString(), ...changes },
            'Merge',
            { etag: lease.etag },
        );
        lease.etag = written.etag ?? lease.etag;
    }

    async complete(lease: Lease, outcome: DeliveryOutcome): Promise<void> {
        const now = new Date().toISOString();
        const target = outcome.state === 'skipped' ? {} : outcome.target ? { Target: outcome.target } : {};
        await this.update(lease, { State: outcome.state, CompletedAt: now, LastError: outcome.state === 'skipped' ? outcome.reason : '', FailureKind: '', LeaseUntil: '', ...target });
    }

    async fail(lease: Lease, failure: DeliveryFailure): Promise<void> {
        await this.update(lease, { State: 'failed', LastError: failure.message.slice(0, 2000), FailureKind: failure.kind, LeaseUntil: '' });
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
