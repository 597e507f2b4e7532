import type { DestinationName } from '../config/settings';
import type { Lead } from '../lead/lead';

/**
 * How a delivery ended. `submitted`: handed over to a service that does not confirm (Salesforce
 * Web-to-Lead answers 200 even when it drops a lead). `skipped`: this lead cannot go there, for a
 * reason that retrying will not change (recorded, not retried). `uncertain`: the call may or may
 * not have reached a service that cannot tell a retry from a new lead, so it is not retried by
 * itself; an operator decides (it waits in the poison queue).
 */
export type DeliveryOutcome = { state: 'delivered' | 'submitted'; target?: string } | { state: 'skipped' | 'uncertain'; reason: string };

export interface DeliveryContext {
    /** Which attempt at this destination this is, from 1, counting every retry chain. */
    attempt: number;
    /** What an earlier attempt recorded about where the lead went (a row key, a CRM record id). */
    target: string | undefined;
    /** `update`: the destination has an earlier version of this lead, and this one says something new. */
    mode: 'create' | 'update';
    /**
     * Another version of this lead was tried here before, confirmed or not: one whose call failed or
     * timed out may have reached the destination all the same.
     */
    earlierVersions?: boolean;
    /** When the first message of this lead that reached this destination was received: where to look for what an earlier attempt left. */
    firstReceivedAt?: string;
    /** Aborts before the delivery's lease runs out, so that no call outlives it. */
    signal?: AbortSignal;
}

/** One place leads go. Each implementation is one module under destinations/. */
export interface Destination {
    readonly name: DestinationName;
    /** The most calls one delivery makes in a row (a token, a call, a refresh, the call again): its lease covers them all. */
    readonly maxCalls: number;
    /**
     * The same call made twice leaves one lead (an idempotency key, a fixed record id, an upsert).
     * A destination that is not is never called again after an attempt that may have reached it.
     */
    readonly idempotent: boolean;
    deliver(lead: Lead, context: DeliveryContext): Promise<DeliveryOutcome>;
    /** A lead this destination already has was posted again (the table counts occurrences). */
    onRepeat?(lead: Lead, context: DeliveryContext): Promise<void>;
}

/**
 * A delivery that did not happen. `transient` ones (timeouts, 5xx, 429) are retried with back-off;
 * `permanent` ones (a 4xx from bad settings or data) are not hammered: they go to the poison queue.
 */
export class DeliveryFailure extends Error {
    constructor(
        message: string,
        readonly kind: 'transient' | 'permanent',
        readonly retryAfterMs?: number,
        /** The request may have reached the service before the failure (a time-out, a connection reset). */
        readonly uncertain = false,
    ) {
        super(message);
        this.name = 'DeliveryFailure';
    }
}

/** Leaves out empty values, so that an update never blanks a field a salesperson filled in. */
export function nonEmpty(fields: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== ''));
}
