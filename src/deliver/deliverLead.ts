import type { InvocationContext } from '@azure/functions';
import type { DestinationName } from '../config/settings';
import type { DestinationMessage } from '../queue/leadMessage';
import { attemptDelivery, callableInline } from './deliverToDestination';
import { destinationNamed } from './destinations';
import { inlineOpen } from './inlineGate';
import { destinationsFor } from './routing';
import { leadOrPoison, servicesOrPoison, type DeliveryServices } from './services';

/** The fan-out's budget for a destination it calls itself; undefined: the lead goes on the destination's queue. */
async function inlineBudgetMs(svc: DeliveryServices, name: DestinationName): Promise<number | undefined> {
    if (!inlineOpen(name)) return undefined;
    try {
        return callableInline(await destinationNamed(name, svc.settings), svc.settings) ? svc.settings.DELIVERY_INLINE_SECONDS * 1000 : undefined;
    } catch {
        // A destination that cannot be made says why from its own queue, where its failures are handled.
        return undefined;
    }
}

/**
 * The table is written in this invocation (the app's own storage, which the digest and the console
 * read), and so is every destination idempotent by key while it answers within
 * DELIVERY_INLINE_SECONDS; the others get a message on their own queue.
 */
async function fanOut(svc: DeliveryServices, message: DestinationMessage, context: InvocationContext): Promise<string> {
    const name = message.delivery.destination;
    if (name === 'table') return `${name}=${await attemptDelivery(svc, message, context)}`;
    const budgetMs = await inlineBudgetMs(svc, name);
    if (budgetMs !== undefined) return `${name}=${await attemptDelivery(svc, message, context, budgetMs)}`;
    await (await svc.queueFor(name)).send(message);
    return `${name}=queued`;
}

/** Storage's time of the message, from the trigger: the queue's insertion time (the host passes it as JSON text). */
function insertionTimeOf(context: InvocationContext): string | undefined {
    const value = context.triggerMetadata?.insertionTime;
    const ms = typeof value === 'string' || value instanceof Date ? new Date(value).getTime() : NaN;
    return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * Routes each lead on LEADS_QUEUE: the table gets it at once, and so does every destination that is
 * idempotent by key and answers within DELIVERY_INLINE_SECONDS; the rest, and those that did not
 * answer in time, go on from their own queues, so that a CRM that hangs or is down delays only itself. Errors of the
 * app's own storage are thrown, so the host retries the message; every copy that makes is
 * recognised downstream by its delivery record (see decideClaim).
 */
export async function deliverLead(message: unknown, context: InvocationContext): Promise<void> {
    const svc = await servicesOrPoison(message, (line) => context.error(line));
    if (!svc) return;
    const parsed = await leadOrPoison(svc, message, (line) => context.error(line));
    if (!parsed) return;
    const { delivery: _routedAgain, ...received } = parsed;
    // Stamped once, here: every copy of this POST downstream carries the same order (see versionOrder).
    const lead = { ...received, queuedAt: received.queuedAt ?? insertionTimeOf(context) };
    const names = destinationsFor(lead, svc.settings);
    const results = await Promise.all(names.map((destination) => fanOut(svc, { ...lead, delivery: { destination, ticket: 1, attempt: 1 } }, context)));
    context.log(`Lead ${lead.id} (version ${lead.version}): ${results.join(', ') || 'no destinations'}.`);
}
