import type { InvocationContext } from '@azure/functions';
import type { DestinationName } from '../config/settings';
import type { DestinationMessage } from '../queue/leadMessage';
import { attemptDelivery } from './deliverToDestination';
import { destinationsFor } from './routing';
import { leadOrPoison, servicesOrPoison, type DeliveryServices } from './services';

/** Delivered in the same invocation: the app's own storage, which the digest and the console read. */
const inline: readonly DestinationName[] = ['table'];

async function fanOut(svc: DeliveryServices, message: DestinationMessage, context: InvocationContext): Promise<string> {
    const name = message.delivery.destination;
    if (inline.includes(name)) return `${name}=${await attemptDelivery(svc, message, context)}`;
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
 * Routes each lead on LEADS_QUEUE: the table gets it at once, and every other destination gets a
 * message on its own queue, so that a CRM that hangs or is down delays only itself. Errors of the
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
