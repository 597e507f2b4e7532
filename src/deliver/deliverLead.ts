import type { InvocationContext } from '@azure/functions';
import { ConfigurationError, intakeSettings, settings, type DestinationName, type Settings } from '../config/settings';
import type { Lead } from '../lead/lead';
import { JsonQueue } from '../queue/jsonQueue';
import { leadMessageSchema, type LeadMessage } from '../queue/leadMessage';
import { lazy } from '../runtime/lazy';
import { DeliveryLog, type Lease } from '../store/deliveryLog';
import { retryDelaySeconds } from './backoff';
import { DeliveryFailure, type DeliveryContext, type Destination } from './destination';
import { destinationNamed } from './destinations';
import { destinationsFor } from './routing';

type Result =
    | { destination: DestinationName; status: 'delivered' | 'submitted' | 'skipped' | 'already' }
    | { destination: DestinationName; status: 'busy'; leaseUntil: number }
    | { destination: DestinationName; status: 'failed'; failure: DeliveryFailure };

interface Services {
    settings: Settings;
    log: DeliveryLog;
    queue: JsonQueue;
    poison: JsonQueue;
}

const busyRetrySeconds = 2;

const connect = lazy(async (): Promise<Services> => {
    const s = settings();
    const [log, queue, poison] = await Promise.all([
        DeliveryLog.connect(s.storage, s.DELIVERIES_TABLE),
        JsonQueue.connect(s.storage, s.LEADS_QUEUE),
        JsonQueue.connect(s.storage, `${s.LEADS_QUEUE}-poison`),
    ]);
    return { settings: s, log, queue, poison };
});

function contextFor(lease: Lease | undefined, target: string | undefined): DeliveryContext {
    return { attempt: lease?.record.attempts ?? 0, target };
}

/** One lead to one destination, at most once at a time, skipped when the destination has it. */
async function deliverTo(name: DestinationName, lead: Lead, { settings: s, log }: Services): Promise<Result> {
    // Long enough for a token request and the call itself, with a margin.
    const leaseMs = s.DELIVERY_TIMEOUT_SECONDS * 3000;
    const acquisition = await log.acquire(lead.id, name, leaseMs);
    if (acquisition.status === 'busy') return { destination: name, status: 'busy', leaseUntil: Date.parse(acquisition.record.leaseUntil ?? '') || Date.now() };
    const destination: Destination = await destinationNamed(name, s);
    if (acquisition.status === 'done') {
        await destination.onRepeat?.(lead, contextFor(undefined, acquisition.record.target));
        return { destination: name, status: 'already' };
    }
    const { lease } = acquisition;
    try {
        const outcome = await destination.deliver(lead, contextFor(lease, lease.record.target));
        await log.complete(lease, outcome);
        return { destination: name, status: outcome.state };
    } catch (error) {
        const failure = error instanceof DeliveryFailure ? error : new DeliveryFailure(`${name} failed: ${String(error)}`, 'transient');
        await log.fail(lease, failure);
        return { destination: name, status: 'failed', failure };
    }
}

function describeFailures(results: Result[]): string {
    return results
        .map((r) => (r.status === 'failed' ? `${r.destination}: ${r.failure.message}` : r.status === 'busy' ? `${r.destination}: another delivery is in progress` : ''))
        .filter(Boolean)
        .join('; ');
}

/**
 * Delivers one message from the leads queue to each destination the lead is routed to. Failed
 * destinations are retried with back-off by re-enqueueing the lead; those that succeeded are
 * skipped on every later attempt. A permanent failure, or the last attempt, sends the lead to
 * `<queue>-poison` with the reason. Errors of the app's own storage are thrown, so the host
 * retries the message and, after maxDequeueCount, poisons it.
 */
export async function deliverLead(message: unknown, context: InvocationContext): Promise<void> {
    let svc: Services;
    try {
        svc = await connect();
    } catch (error) {
        if (!(error instanceof ConfigurationError)) throw error;
        // Retrying cannot fix a setting, and the host's poison copy would expire in 7 days: keep the lead, unexpiring.
        const { storage, LEADS_QUEUE } = intakeSettings();
        const poison = await JsonQueue.connect(storage, `${LEADS_QUEUE}-poison`);
        await poison.send(message);
        context.error(`${error.message} The lead was moved to ${poison.name}; fix the setting, then run "npm run leads -- replay-poison".`);
        return;
    }
    const parsed = leadMessageSchema.safeParse(message);
    if (!parsed.success) {
        const reason = `The message is not a lead: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ')}`;
        context.error(`${reason}. Moved it to ${svc.poison.name}.`);
        await svc.poison.send(message);
        return;
    }
    const { delivery, ...lead } = parsed.data;
    const attempt = delivery?.attempt ?? 1;
    const names = destinationsFor(lead, svc.settings);
    const results = await Promise.all(names.map((name) => deliverTo(name, lead, svc)));
    const summary = results.map((r) => `${r.destination}=${r.status}`).join(', ');
    const unfinished = results.filter((r) => r.status === 'failed' || r.status === 'busy');
    if (unfinished.length === 0) {
        context.log(`Lead ${lead.id}: ${summary || 'no destinations'} (attempt ${attempt}).`);
        return;
    }
    const reason = describeFailures(unfinished);
    const retryable = unfinished.some((r) => r.status === 'busy' || r.failure.kind === 'transient');
    if (retryable && attempt < svc.settings.DELIVERY_MAX_ATTEMPTS) {
        const retryAfter = Math.max(0, ...unfinished.map((r) => (r.status === 'failed' ? r.failure.retryAfterMs ?? 0 : 0)));
        // Only waiting for another copy of the lead: look again soon, at the latest when its lease ends,
        // and without spending an attempt, since nothing was tried.
        const onlyBusy = unfinished.every((r) => r.status === 'busy');
        const leaseLeft = Math.max(0, ...unfinished.map((r) => (r.status === 'busy' ? r.leaseUntil - Date.now() : 0))) / 1000;
        const delay = onlyBusy ? Math.min(busyRetrySeconds, Math.max(1, Math.ceil(leaseLeft))) : retryDelaySeconds(attempt, svc.settings.DELIVERY_RETRY_SECONDS, retryAfter);
        const next: LeadMessage = { ...lead, delivery: { attempt: onlyBusy ? attempt : attempt + 1, reason } };
        await svc.queue.send(next, { delaySeconds: delay });
        context.warn(`Lead ${lead.id}: ${summary}; attempt ${next.delivery?.attempt} in ${delay} s. ${reason}`);
        return;
    }
    const why = retryable ? `gave up after ${attempt} attempts` : 'a permanent failure';
    await svc.poison.send({ ...lead, delivery: { attempt, reason } } satisfies LeadMessage);
    context.error(`Lead ${lead.id}: ${summary}; ${why}, moved to ${svc.poison.name}. ${reason}`);
}
