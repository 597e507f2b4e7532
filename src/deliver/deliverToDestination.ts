import type { InvocationContext } from '@azure/functions';
import { destinationFailingEvent, poisonedEvent, poisonedMessageEvent } from '../alert/alertEvent';
import { failingAlertFor } from '../alert/failingAlert';
import { recordAlert } from '../alert/recordAlert';
import type { DestinationName } from '../config/settings';
import type { Lead } from '../lead/lead';
import { versionOrder } from '../lead/version';
import type { DestinationMessage } from '../queue/leadMessage';
import { failingOf, type Acquisition, type Lease } from './deliveryLog';
import { noteAttention } from './attentionNote';
import { retryDelaySeconds } from './backoff';
import { breakerFor, circuitTimings, type Admission, type CircuitBreaker } from './circuitBreaker';
import { DeliveryFailure, type Destination } from './destination';
import { destinationNamed } from './destinations';
import { within } from './http';
import { noteInlineTiming } from './inlineGate';
import { leadOrPoison, servicesOrPoison, type DeliveryServices } from './services';

/** Slack for a delivery's own work between its calls; past it, the delivery is stopped. */
const callSlackMs = 5_000;
/** Room after that for the record writes, before the lease ends. */
const leaseMarginMs = 10_000;
/** A lead another copy is delivering looks again after at most this. */
const busyRetrySeconds = 5;

export type AttemptResult = 'delivered' | 'submitted' | 'skipped' | 'uncertain' | 'repeat' | 'stale' | 'busy' | 'waiting' | 'retrying' | 'poisoned' | 'handed-off';

/**
 * The fan-out may call this destination itself, within DELIVERY_INLINE_SECONDS: a repeat of the call
 * leaves one lead, so a call cut off at that budget can be made again from the destination's own
 * queue. The table is always written inline, as it is the app's own storage.
 */
export function callableInline(destination: Destination, settings: DeliveryServices['settings']): boolean {
    return destination.idempotent && destination.name !== 'table' && settings.DELIVERY_INLINE_SECONDS > 0;
}

/** Long enough for every call the destination makes in a row, each up to DELIVERY_TIMEOUT_SECONDS. */
export function leaseMsFor(destination: Destination, timeoutSeconds: number): number {
    return destination.maxCalls * timeoutSeconds * 1000 + callSlackMs + leaseMarginMs;
}

/** The same message again later, spending no attempt: the destination was busy or its circuit open. Returns when it comes back. */
async function later(svc: DeliveryServices, message: DestinationMessage, delaySeconds: number): Promise<Date> {
    const seconds = Math.max(1, Math.ceil(delaySeconds));
    await (await svc.queueFor(message.delivery.destination)).send(message, { delaySeconds: seconds });
    return new Date(Date.now() + seconds * 1000);
}

function failureOf(error: unknown, destination: DestinationName): DeliveryFailure {
    // A programming or storage error is not the destination's fault, but is retried all the same.
    return error instanceof DeliveryFailure ? error : new DeliveryFailure(`The ${destination} destination failed: ${error instanceof Error ? error.name : 'an error'}.`, 'transient');
}

/**
 * Writes the chain's "failing" alert when it is due, and says whether it is written now. Never
 * throws: an alert never changes what happens to the lead.
 */
async function alertIfFailingLong(svc: DeliveryServices, lead: Lead, destination: DestinationName, lease: Lease, failure: DeliveryFailure, context: InvocationContext): Promise<{ since: string; alerted: boolean }> {
    const failing = failingOf(lease.record);
    const event = failingAlertFor(failing, { id: lead.id, offer: lead.offer || lead.offerTitle }, destination, failure.message, svc.settings.ALERT_FAILING_MINUTES);
    if (!event) return failing;
    return { since: failing.since, alerted: await recordAlert(svc.alerts, event, (line) => context.error(line)) };
}

/**
 * The destination's own "failing" alert, once per spell: a lead's retry chain alone is found failing
 * only at its own failed attempts, and behind an open circuit the probes take fresh leads.
 */
async function alertIfDestinationFailing(svc: DeliveryServices, breaker: CircuitBreaker, destination: DestinationName, context: InvocationContext): Promise<void> {
    const due = breaker.failingAlertDue(svc.settings.ALERT_FAILING_MINUTES);
    if (!due) return;
    // Marked even when the write failed (recordAlert logs that): waiting leads must not come back for it every second.
    breaker.markFailingAlerted();
    await recordAlert(svc.alerts, destinationFailingEvent(destination, due.since, due.reason), (line) => context.error(line));
}

/** Writes the poison alert before the lead is moved: a crash between the two leaves an alert, never a silent poison. */
async function alertPoisoned(svc: DeliveryServices, lead: Lead, destination: DestinationName, ticket: number, reason: string, context: InvocationContext): Promise<void> {
    await recordAlert(svc.alerts, poisonedEvent({ id: lead.id, offer: lead.offer || lead.offerTitle }, destination, ticket, reason), (line) => context.error(line));
}

/** The next link of the retry chain, or the poison queue when the chain has run out or cannot succeed. */
async function afterFailure(svc: DeliveryServices, message: DestinationMessage, lease: Lease, failure: DeliveryFailure, context: InvocationContext): Promise<AttemptResult> {
    const { lead, delivery } = split(message);
    const { destination, attempt } = delivery;
    if (failure.kind === 'transient' && attempt < svc.settings.DELIVERY_MAX_ATTEMPTS) {
        const ticket = lease.record.ticket + 1;
        const delay = retryDelaySeconds(attempt, svc.settings.DELIVERY_RETRY_SECONDS, failure.retryAfterMs);
        try {
            await (await svc.queueFor(destination)).send({ ...lead, delivery: { destination, ticket, attempt: attempt + 1 } }, { delaySeconds: delay });
        } catch (error) {
            // Recorded as failed with nothing scheduled: this message comes back and schedules it.
            await svc.log.fail(lease, failure, undefined);
            throw error;
        }
        const failing = await alertIfFailingLong(svc, lead, destination, lease, failure, context);
        await svc.log.fail(lease, failure, { scheduled: ticket }, failing);
        const nextTryAt = new Date(Date.now() + delay * 1000);
        await noteAttention(svc.attention, lead, destination, { state: 'retrying', failed: true, reason: failure.message, nextTryAt, leadRow: rowOf(destination, lease) }, (line) => context.error(line));
        context.warn(`Lead ${lead.id}: ${destination} failed (attempt ${attempt}); attempt ${attempt + 1} in ${delay} s. ${failure.message}`);
        return 'retrying';
    }
    const why = failure.kind === 'transient' ? `gave up after ${attempt} attempts` : 'a permanent failure';
    await alertPoisoned(svc, lead, destination, lease.record.ticket, `${why}: ${failure.message}`, context);
    // Noted before the move, like the alert: the console never finds the message in the poison queue without its reason.
    await noteAttention(svc.attention, lead, destination, { state: 'poisoned', failed: true, reason: `${why}: ${failure.message}`, leadRow: rowOf(destination, lease) }, (line) => context.error(line));
    await svc.poison.send({ ...lead, delivery: { destination, ticket: lease.record.ticket, attempt } });
    await svc.log.fail(lease, failure, { poisoned: true });
    context.error(`Lead ${lead.id}: ${destination} ${why}; moved to ${svc.poison.name}. ${failure.message}`);
    return 'poisoned';
}

/** Where the lead's row is, when this delivery is the table's and knows it. */
function rowOf(destination: DestinationName, lease: Lease): string | undefined {
    return destination === 'table' ? lease.record.target : undefined;
}

function split(message: DestinationMessage): { lead: Lead; delivery: DestinationMessage['delivery'] } {
    const { delivery, ...lead } = message;
    return { lead, delivery };
}

/** An uncertain delivery waits in the poison queue for an operator, who checks the vendor before replaying it. */
async function setAsideUncertain(svc: DeliveryServices, message: DestinationMessage, ticket: number, context: InvocationContext, reason: string): Promise<void> {
    const { lead, delivery } = split(message);
    await alertPoisoned(svc, lead, delivery.destination, ticket, `uncertain, check the destination before replaying: ${reason}`, context);
    await noteAttention(svc.attention, lead, delivery.destination, { state: 'uncertain', failed: false, reason }, (line) => context.error(line));
    await svc.poison.send({ ...lead, delivery: { destination: delivery.destination, ticket, attempt: delivery.attempt } });
    await svc.log.markPoisoned(lead.id, delivery.destination);
    context.error(`Lead ${lead.id}: ${delivery.destination} is uncertain (${reason}); moved to ${svc.poison.name} for a person to check before "npm run leads -- replay-poison --uncertain".`);
}

/**
 * An inline attempt that ran past DELIVERY_INLINE_SECONDS was cut off, and the destination may
 * still be working on the call. The lease is held for DELIVERY_TIMEOUT_SECONDS more, the time any
 * call may take, and the same message goes on the destination's own queue to come back when it
 * ends: then this link finds its lease run out and calls again, spending no attempt. That second
 * call is harmless, as only destinations idempotent by key are called inline; and no other copy or
 * version of the lead reaches the destination before it.
 */
async function handOff(svc: DeliveryServices, message: DestinationMessage, lease: Lease, context: InvocationContext): Promise<AttemptResult> {
    const { lead, delivery } = split(message);
    const seconds = svc.settings.DELIVERY_TIMEOUT_SECONDS;
    await svc.log.hold(lease, new Date(Date.now() + seconds * 1000));
    await later(svc, message, seconds + 1);
    context.warn(`Lead ${lead.id}: ${delivery.destination} had not answered within ${svc.settings.DELIVERY_INLINE_SECONDS} s of the fan-out; it goes on from its own queue in ${Math.ceil(seconds) + 1} s.`);
    return 'handed-off';
}

/**
 * One attempt at one destination for one message: takes the lease unless the destination has this
 * version already (a repeat), another copy is delivering it (busy), or the message is a stale link
 * of its retry chain; then delivers, and schedules the next link or poisons on failure. `inlineMs`:
 * the fan-out makes the attempt itself and hands the lead to the destination's queue past it.
 */
export async function attemptDelivery(svc: DeliveryServices, message: DestinationMessage, context: InvocationContext, inlineMs?: number): Promise<AttemptResult> {
    const { lead, delivery } = split(message);
    const name = delivery.destination;
    const breaker = breakerFor(name, circuitTimings(svc.settings));
    const admission = breaker.admit();
    if (!admission.admitted) {
        await alertIfDestinationFailing(svc, breaker, name, context);
        // A waiting lead also comes back when the spell's alert falls due, so that it is written on time.
        const alertInMs = breaker.msUntilFailingAlert(svc.settings.ALERT_FAILING_MINUTES) ?? Infinity;
        const nextTryAt = await later(svc, { ...message, delivery: { ...delivery, waited: true } }, Math.min(admission.retryInMs, alertInMs) / 1000);
        // Failed before if this is a later attempt of its chain, or a replay of a lead that gave up.
        const failed = delivery.attempt > 1 || delivery.replay === true;
        await noteAttention(svc.attention, lead, name, { state: 'waiting', failed, reason: breaker.waitingReason(), nextTryAt }, (line) => context.error(line));
        return 'waiting';
    }
    let destination: Destination;
    let leaseMs: number;
    let acquisition: Acquisition;
    try {
        destination = await destinationNamed(name, svc.settings);
        leaseMs = leaseMsFor(destination, svc.settings.DELIVERY_TIMEOUT_SECONDS);
        const request = {
            leadId: lead.id,
            destination: name,
            version: lead.version,
            receivedAt: lead.receivedAt,
            order: versionOrder(lead),
            receiptId: lead.receiptId,
            ticket: delivery.ticket,
            replay: delivery.replay === true,
        };
        acquisition = await svc.log.acquire(request, leaseMs);
    } catch (error) {
        // No call was made: an admitted probe must not stay taken, or the destination waits for good.
        breaker.release(admission);
        throw error;
    }
    if (acquisition.status !== 'acquired') {
        breaker.release(admission);
        const record = acquisition.record;
        if (acquisition.status === 'busy') {
            const leaseLeft = record?.leaseUntil ? (Date.parse(record.leaseUntil) - Date.now()) / 1000 : busyRetrySeconds;
            await later(svc, message, Math.min(busyRetrySeconds, Math.max(1, leaseLeft)));
        } else if (acquisition.status === 'repeat') {
            await destination.onRepeat?.(lead, { attempt: delivery.attempt, target: record?.target, mode: 'create' });
            // A replayed or waiting copy finds the destination has the lead after all: nothing waits any more.
            if ((delivery.replay === true || delivery.waited === true) && record && ['delivered', 'submitted', 'skipped'].includes(record.state))
                await noteAttention(svc.attention, lead, name, 'done', (line) => context.error(line));
            if (record?.state === 'uncertain' && !record.poisoned && record.receiptId === lead.receiptId) await setAsideUncertain(svc, message, record.ticket, context, record.lastError ?? '');
        }
        return acquisition.status;
    }
    return deliverLeased(svc, destination, message, { lease: acquisition.lease, ms: leaseMs, admission }, context, inlineMs);
}

/**
 * Why a destination that cannot tell a retry from a new lead is not called now: an earlier attempt
 * may have reached it. A person checks, then replays (a replay of an uncertain delivery calls).
 */
function blindCallReason(destination: Destination, lease: Lease, replay: boolean): string | undefined {
    if (destination.idempotent) return undefined;
    if (lease.interrupted) return 'an earlier attempt stopped during its call (the instance stopped, or the answer could not be recorded), so the service may have the lead';
    if (lease.afterUncertain && !replay) return 'the call of an earlier version is uncertain, so the service may have the lead: this version would be a second one';
    return undefined;
}

async function deliverLeased(
    svc: DeliveryServices,
    destination: Destination,
    message: DestinationMessage,
    leased: { lease: Lease; ms: number; admission: Admission },
    context: InvocationContext,
    inlineMs: number | undefined,
): Promise<AttemptResult> {
    const { lead, delivery } = split(message);
    const { lease, admission } = leased;
    const breaker = breakerFor(destination.name, circuitTimings(svc.settings));
    const blind = blindCallReason(destination, lease, delivery.replay === true);
    if (blind) {
        breaker.release(admission);
        await svc.log.complete(lease, { state: 'uncertain', reason: blind });
        await setAsideUncertain(svc, message, lease.record.ticket, context, blind);
        return 'uncertain';
    }
    let outcome;
    const budget = inlineMs === undefined ? undefined : AbortSignal.timeout(inlineMs);
    const started = performance.now();
    // How long it took, for whether the fan-out goes on calling it inline.
    const timed = (ended: Parameters<typeof noteInlineTiming>[3]) => {
        if (callableInline(destination, svc.settings)) noteInlineTiming(destination.name, performance.now() - started, svc.settings.DELIVERY_INLINE_SECONDS * 1000, ended);
    };
    try {
        const signal = within(AbortSignal.timeout(leased.ms - leaseMarginMs), budget);
        // Every attempt this destination saw for the lead, across chains: a later one looks for what an earlier left.
        const earlierVersions = lease.record.seenVersions.some((seen) => seen !== lead.version);
        outcome = await destination.deliver(lead, { attempt: lease.record.attempts, target: lease.record.target, mode: lease.mode, earlierVersions, firstReceivedAt: lease.record.firstReceivedAt, signal });
    } catch (error) {
        if (budget?.aborted) {
            timed('cut off');
            // Not the destination's failure, only slower than the fan-out waits: the circuit counts nothing.
            breaker.release(admission);
            return handOff(svc, message, lease, context);
        }
        const failure = failureOf(error, destination.name);
        timed(failure.kind === 'permanent' ? 'answered' : 'failed');
        const change = failure.kind === 'transient' ? breaker.failed(failure.message) : breaker.succeeded();
        if (change) context.warn(change);
        await alertIfDestinationFailing(svc, breaker, destination.name, context);
        return afterFailure(svc, message, lease, failure, context);
    }
    timed('answered');
    const change = breaker.succeeded();
    if (change) context.log(change);
    await svc.log.complete(lease, outcome);
    if (outcome.state === 'uncertain') {
        await setAsideUncertain(svc, message, lease.record.ticket, context, outcome.reason);
        return 'uncertain';
    }
    // Only after trouble can there be an entry: the happy path costs no request for it.
    if (lease.troubled || delivery.waited === true || delivery.replay === true) await noteAttention(svc.attention, lead, destination.name, 'done', (line) => context.error(line));
    const what = lease.mode === 'update' ? 'update' : 'lead';
    context.log(`Lead ${lead.id}: ${destination.name} ${outcome.state} (${what} version ${lead.version}, attempt ${delivery.attempt}).`);
    return outcome.state;
}

/** The queue trigger of a destination's own queue: one lead, one destination. */
export async function deliverToDestination(message: unknown, context: InvocationContext): Promise<AttemptResult> {
    const svc = await servicesOrPoison(message, (line) => context.error(line));
    if (!svc) return 'poisoned';
    const parsed = await leadOrPoison(svc, message, (line) => context.error(line));
    if (!parsed) return 'poisoned';
    if (!parsed.delivery?.destination) {
        await recordAlert(svc.alerts, poisonedMessageEvent(message, 'The message names no destination.'), (line) => context.error(line));
        context.error(`The message of lead ${parsed.id} names no destination. Moved it to ${svc.poison.name}.`);
        await svc.poison.send(message);
        return 'poisoned';
    }
    return attemptDelivery(svc, parsed as DestinationMessage, context);
}
