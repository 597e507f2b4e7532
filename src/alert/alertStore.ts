import type { TableClient, TransactionAction } from '@azure/data-tables';
import { lazy } from '../runtime/lazy';
import { statusOf, tableClientFor } from '../storage/clients';
import type { StorageConnection } from '../storage/connection';
import { packMail, releaseLease, takeLease, unpackMail } from '../notify/notifyProgress';
import type { AlertEvent, AlertKind } from './alertEvent';

/** An alert mail written down before it is sent, so that after a crash it is sent again as the same mail (same Message-ID). */
export interface PendingAlert {
    id: string;
    kind: AlertKind;
    keys: string[];
    to: string[];
    subject: string;
    text: string;
    html: string;
}

interface StateEntity {
    partitionKey: string;
    rowKey: string;
    LeaseUntil?: string;
    LastSentAt?: string;
    /** The kind's mail has failed to go since then (kept until it goes), and why, last. */
    FailingSince?: string;
    LastFailure?: string;
    etag?: string;
}

interface WatchEntity {
    WatchingSince: string;
    QuietSince?: string;
}

interface EventEntity {
    rowKey: string;
    At: string;
    Reason: string;
    LeadId?: string;
    Offer?: string;
    Destination?: string;
    Recipient?: string;
    Sent: boolean;
}

/** What one partition of ALERTS_TABLE holds for a kind: its sender state, and the events not yet mailed, oldest first. */
export interface AlertKindState {
    state: StateEntity | undefined;
    pending: PendingAlert | undefined;
    watch: WatchEntity | undefined;
    unsent: AlertEvent[];
}

/** The right to send one kind's mail until `leaseUntil`. */
export interface AlertClaim {
    kind: AlertKind;
    etag: string;
    leaseUntil: string;
}

/** A batch transaction holds at most 100 operations: the state row and 99 events. */
export const maxEventsPerMail = 99;
/** An alert write on a delivery's failure path gives up after this, so the lease keeps room for the record writes after it. */
const recordTimeoutMs = 2_000;
const maxPendingParts = 5;
const eventPrefix = 'e_';

function quoted(text: string): string {
    return `'${text.replace(/'/g, "''")}'`;
}

function eventOf(kind: AlertKind, row: EventEntity): AlertEvent {
    return {
        kind,
        key: row.rowKey.slice(eventPrefix.length),
        at: row.At,
        reason: row.Reason,
        ...(row.LeadId ? { leadId: row.LeadId } : {}),
        ...(row.Offer ? { offer: row.Offer } : {}),
        ...(row.Destination ? { destination: row.Destination } : {}),
        ...(row.Recipient ? { recipient: row.Recipient } : {}),
    };
}

/**
 * ALERTS_TABLE: one partition per alert kind, holding its events (RowKey `e_<key>`, written once:
 * a second write of the same event finds it there) and the row `state`, which is the sender's
 * lease and holds the mail written down before it is sent. The quiet kind also has the row `watch`.
 * Marking a mail's events sent and clearing its pending mail is one batch transaction.
 */
export class AlertStore {
    private readonly ensureTable: () => Promise<void>;

    constructor(private readonly client: TableClient) {
        this.ensureTable = lazy(() => client.createTable({ abortSignal: AbortSignal.timeout(recordTimeoutMs) }));
    }

    static async connect(connection: StorageConnection | string, tableName: string): Promise<AlertStore> {
        return new AlertStore(await tableClientFor(connection, tableName));
    }

    /** Writes an event once; the same event written again (same key) is left as it is, sent or not. Gives up after a few seconds. */
    async record(event: AlertEvent): Promise<void> {
        const abortSignal = AbortSignal.timeout(recordTimeoutMs);
        await this.ensureTable();
        const entity = {
            partitionKey: event.kind,
            rowKey: `${eventPrefix}${event.key}`,
            At: event.at,
            Reason: event.reason,
            LeadId: event.leadId ?? '',
            Offer: event.offer ?? '',
            Destination: event.destination ?? '',
            Recipient: event.recipient ?? '',
            Sent: false,
        };
        try {
            await this.client.createEntity(entity, { abortSignal });
        } catch (error) {
            if (statusOf(error) !== 409) throw error;
        }
    }

    /** The kind's state and its unsent events, in one query. */
    async read(kind: AlertKind): Promise<AlertKindState> {
        await this.ensureTable();
        const filter = `PartitionKey eq ${quoted(kind)} and (RowKey eq 'state' or RowKey eq 'watch' or Sent eq false)`;
        const found: AlertKindState = { state: undefined, pending: undefined, watch: undefined, unsent: [] };
        for await (const row of this.client.listEntities({ queryOptions: { filter } })) {
            if (row.rowKey === 'state') {
                found.state = row as unknown as StateEntity;
                found.pending = unpackMail(row, 'Pending') as PendingAlert | undefined;
            } else if (row.rowKey === 'watch') found.watch = row as unknown as WatchEntity;
            else if (row.rowKey?.startsWith(eventPrefix)) found.unsent.push(eventOf(kind, row as unknown as EventEntity));
        }
        found.unsent.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
        return found;
    }

    /** Takes the kind's lease, guarded by the ETag of the state read before; undefined when another run has it. */
    async claim(kind: AlertKind, state: StateEntity | undefined, leaseUntil: string, now = new Date()): Promise<AlertClaim | undefined> {
        const etag = await takeLease(this.client, { partitionKey: kind, rowKey: 'state' }, state, leaseUntil, now, { PendingParts: 0 });
        return etag === undefined ? undefined : { kind, etag, leaseUntil };
    }

    /** Writes the mail down before it is sent; fails if the lease was lost. */
    async savePending(claim: AlertClaim, mail: PendingAlert): Promise<void> {
        const parts = packMail('Pending', mail, maxPendingParts);
        if (!parts) throw new Error(`The alert mail "${mail.id}" is too large to write down before sending it.`);
        const written = await this.client.updateEntity({ partitionKey: claim.kind, rowKey: 'state', ...parts, UpdatedAt: new Date().toISOString() }, 'Merge', { etag: claim.etag });
        claim.etag = written.etag ?? claim.etag;
    }

    /**
     * The mail was sent: its events are marked sent, the pending mail and any failure are cleared,
     * in one transaction that fails as a whole if the lease was lost. The lease ends with it.
     */
    async commit(claim: AlertClaim, mail: PendingAlert, now = new Date()): Promise<void> {
        const at = now.toISOString();
        const state = { partitionKey: claim.kind, rowKey: 'state', PendingParts: 0, LeaseUntil: '', UpdatedAt: at, LastSentAt: at, LastMailId: mail.id };
        const actions: TransactionAction[] = [
            ['update', state, 'Replace', { etag: claim.etag }],
            ...mail.keys.map((key): TransactionAction => ['upsert', { partitionKey: claim.kind, rowKey: `${eventPrefix}${key}`, Sent: true, SentIn: mail.id, SentAt: at }, 'Merge']),
        ];
        await this.client.submitTransaction(actions);
    }

    /** The mail did not go: it stays written down, and the failure is kept for the console's health strip until a mail goes. */
    async fail(claim: AlertClaim, failure: { since: string; reason: string }): Promise<void> {
        const written = await this.client.updateEntity({ partitionKey: claim.kind, rowKey: 'state', FailingSince: failure.since, LastFailure: failure.reason }, 'Merge', { etag: claim.etag });
        claim.etag = written.etag ?? claim.etag;
    }

    async release(claim: AlertClaim): Promise<void> {
        await releaseLease(this.client, { partitionKey: claim.kind, rowKey: 'state' }, claim.etag);
    }

    /** Starts measuring quiet spells from now (the first run with ALERT_QUIET_HOURS set). */
    async startWatch(now = new Date()): Promise<void> {
        try {
            await this.client.createEntity({ partitionKey: 'quiet' satisfies AlertKind, rowKey: 'watch', WatchingSince: now.toISOString() });
        } catch (error) {
            if (statusOf(error) !== 409) throw error;
        }
    }

    /** The quiet spell that began before `since` has its event: later runs look only for a lead after it. */
    async markQuietSince(since: string): Promise<void> {
        await this.client.updateEntity({ partitionKey: 'quiet' satisfies AlertKind, rowKey: 'watch', QuietSince: since }, 'Merge');
    }
}
