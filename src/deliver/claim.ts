/** Where one lead stands at one destination. */
export type DeliveryState = 'pending' | 'delivered' | 'submitted' | 'skipped' | 'failed' | 'uncertain';

/** What a delivery record says, as far as deciding who delivers is concerned. */
export interface ClaimRecord {
    state: DeliveryState;
    leaseUntil?: string;
    /** The highest link of a retry chain that has taken the lease. */
    ticket: number;
    /** The POST whose copy started the chain that holds the record. */
    receiptId: string;
    /** The lead content the state is about, when that content was received, and its place among the lead's versions (versionOrder). */
    version: string;
    versionAt: string;
    versionOrder: string;
    /** Every version this destination was leased for, newest last: one seen before is a repeat, never an update. */
    seenVersions: readonly string[];
    /** The version the destination last confirmed; empty while it has none. */
    deliveredVersion: string;
    /** The chain's next link is on the queue (its ticket), or the lead went to the poison queue. */
    scheduled: number;
    poisoned: boolean;
}

/** What a message of a lead brings to the decision. */
export interface ClaimMessage {
    version: string;
    /** versionOrder of the message's lead. */
    order: string;
    receiptId: string;
    ticket: number;
    replay: boolean;
}

/**
 * `acquire`: deliver now (`update` when the destination has an earlier version). `repeat`: the
 * destination has this content, or newer; only counted. `stale`: a duplicate link of a retry
 * chain that has moved on; dropped. `busy`: someone else is delivering this lead there; look again later.
 */
export type ClaimDecision = { kind: 'acquire'; mode: 'create' | 'update' } | { kind: 'repeat' } | { kind: 'stale' } | { kind: 'busy' };

const finished: readonly DeliveryState[] = ['delivered', 'submitted', 'skipped', 'uncertain'];

function acquire(record: ClaimRecord | undefined): ClaimDecision {
    return { kind: 'acquire', mode: record?.deliveredVersion ? 'update' : 'create' };
}

/**
 * Decides what one message of a lead does at one destination, from the destination's record. Pure:
 * the same record and message always give the same answer, so every copy of a message, on every
 * instance, agrees on who delivers and no retry chain forks.
 */
export function decideClaim(record: ClaimRecord | undefined, message: ClaimMessage, now: number): ClaimDecision {
    if (!record) return acquire(record);
    const leaseLive = record.state === 'pending' && record.leaseUntil !== undefined && Date.parse(record.leaseUntil) > now;
    // A record written before leads had versions: what it delivered can't be compared, so it is kept.
    const unversioned = record.version === '' && finished.includes(record.state);
    if (unversioned && !message.replay) return { kind: 'repeat' };
    if (record.version !== message.version && !unversioned) {
        // A version seen before (a sender's retry of an earlier one), or older than the one the record
        // is about (arriving late): the destination keeps what it has. The order is storage's, never an instance's clock.
        if (record.seenVersions.includes(message.version) || message.order < record.versionOrder) return { kind: 'repeat' };
        return leaseLive ? { kind: 'busy' } : acquire(record);
    }
    const retriable = record.state === 'failed' || record.state === 'uncertain';
    if (finished.includes(record.state) && !(message.replay && retriable && message.ticket > record.ticket)) return { kind: 'repeat' };
    if (leaseLive) return { kind: 'busy' };
    if (message.receiptId === record.receiptId) {
        if (message.ticket > record.ticket) return acquire(record);
        if (message.ticket < record.ticket) return { kind: 'stale' };
        // The link that holds the record: it died mid-attempt, or failed before it could schedule the next.
        const concluded = record.state === 'failed' && (record.scheduled > record.ticket || record.poisoned);
        return concluded ? { kind: 'stale' } : acquire(record);
    }
    // The same content posted again while a chain is still trying: the chain delivers it. Once the
    // chain has given up (poison) or died mid-attempt, the new POST starts a fresh one.
    if (record.state === 'failed' && !record.poisoned) return { kind: 'repeat' };
    return acquire(record);
}
