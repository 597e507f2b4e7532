import { createHash } from 'node:crypto';
import { destinationNames } from '../config/settings';
import { oneLine } from '../notify/digest';
import { tableKeySafe } from '../notify/notifyProgress';

/** What the operator is told about; each kind has its own mail, at most one per ALERT_INTERVAL_MINUTES. */
export const alertKinds = ['poisoned', 'failing', 'set-aside', 'quiet', 'mail-down', 'check'] as const;
export type AlertKind = (typeof alertKinds)[number];

/**
 * One thing that happened, as kept in ALERTS_TABLE. Its key is derived from what happened, never
 * from when it was written, so a write retried (a duplicate queue message, a crash and a retry)
 * is the same event. It names the lead by id only: never a customer's name, e-mail, phone or company.
 */
export interface AlertEvent {
    kind: AlertKind;
    key: string;
    at: string;
    reason: string;
    leadId?: string;
    offer?: string;
    destination?: string;
    /** A recipient of the digest the mail server refused: the publisher's own address. */
    recipient?: string;
}

const maxReasonLength = 500;

function hash(text: string, length: number): string {
    return createHash('sha256').update(text).digest('hex').slice(0, length);
}

function reasonOf(text: string): string {
    return oneLine(text).slice(0, maxReasonLength);
}

/** A lead moved to the poison queue at a destination: one event per link of its retry chain (its ticket). */
export function poisonedEvent(lead: { id: string; offer: string }, destination: string, ticket: number, reason: string, at = new Date()): AlertEvent {
    return { kind: 'poisoned', key: `${lead.id}_${destination}_${ticket}`, at: at.toISOString(), reason: reasonOf(reason), leadId: lead.id, offer: oneLine(lead.offer), destination };
}

/**
 * A message moved to the poison queue before it could be read as a lead for a destination (not a
 * lead, no destination, a setting wrong): keyed by its content. Only its lead id and destination
 * are taken from it, and only when they have their expected form: the rest may be anything.
 */
export function poisonedMessageEvent(message: unknown, reason: string, at = new Date()): AlertEvent {
    const fields = typeof message === 'object' && message !== null ? (message as { id?: unknown; delivery?: { destination?: unknown } }) : {};
    const leadId = typeof fields.id === 'string' && /^[0-9a-f]{32}$/.test(fields.id) ? fields.id : undefined;
    const destination = destinationNames.find((name) => name === fields.delivery?.destination);
    return { kind: 'poisoned', key: `message_${hash(JSON.stringify({ message }), 32)}`, at: at.toISOString(), reason: reasonOf(reason), leadId, destination };
}

/** A destination has failed for a lead since `since` (the first failure of the retry chain): one event per chain. */
export function failingEvent(lead: { id: string; offer: string }, destination: string, since: string, reason: string, at = new Date()): AlertEvent {
    return { kind: 'failing', key: `${lead.id}_${destination}_${since}`, at: at.toISOString(), reason: reasonOf(`Failing since ${since}: ${reason}`), leadId: lead.id, offer: oneLine(lead.offer), destination };
}

/**
 * A destination has failed since `since` (the first failure after it last answered, in the instance
 * that saw it) whichever leads it was tried with, its waiting leads included: one event per spell and instance.
 */
export function destinationFailingEvent(destination: string, since: string, reason: string, at = new Date()): AlertEvent {
    return { kind: 'failing', key: `destination_${destination}_${since}`, at: at.toISOString(), reason: reasonOf(`Failing since ${since}, its leads waiting: ${reason}`), destination };
}

/** The digest set a lead or a recipient aside; the same one set aside again for the same reason is the same event. */
export function setAsideEvent(entry: { kind: 'lead' | 'recipient'; subject: string; reason: string }, at = new Date()): AlertEvent {
    const who = entry.kind === 'lead' ? { leadId: entry.subject } : { recipient: oneLine(entry.subject) };
    return { kind: 'set-aside', key: `${entry.kind}_${tableKeySafe(entry.subject).slice(0, 200)}_${hash(entry.reason, 16)}`, at: at.toISOString(), reason: reasonOf(entry.reason), ...who };
}

/** No lead since the newest one (its leads-table row key), or since watching began: one event per quiet spell. */
export function quietEvent(after: { newestRowKey: string } | { watchingSince: string }, hours: number, at = new Date()): AlertEvent {
    const key = 'newestRowKey' in after ? `after_${after.newestRowKey}` : `after_none_${after.watchingSince}`;
    const last = 'newestRowKey' in after ? `the last one was stored at ${after.newestRowKey.slice(0, 24)}` : `none since ${after.watchingSince}`;
    return { kind: 'quiet', key, at: at.toISOString(), reason: `No lead has arrived for more than ${hours} hour(s) (${last}); check the offer's lead destination in Partner Center.` };
}

/** Digests have not gone out since `since`, for a reason that is not a lead's: one event per outage, however many runs fail. */
export function mailDownEvent(since: string, reason: string, at = new Date()): AlertEvent {
    return { kind: 'mail-down', key: `digests_${tableKeySafe(since)}`, at: at.toISOString(), reason: reasonOf(`Digests have failed since ${since}: ${reason}`) };
}

/**
 * A destination check failed: one event per destination and cause (a hash of what the check said)
 * in a failing spell, however many runs see it; after the check passes again, a new spell.
 */
export function checkFailedEvent(target: string, failingSince: string, summary: string, at = new Date()): AlertEvent {
    return { kind: 'check', key: `${target}_${tableKeySafe(failingSince)}_${hash(summary, 16)}`, at: at.toISOString(), reason: reasonOf(summary), destination: target };
}
