import { createHash } from 'node:crypto';
import type { Lead } from './lead';

/** What a lead says, without when or as which POST it arrived: two leads with the same content are a retry. */
type Content = Pick<Lead, 'leadSource' | 'action' | 'offer' | 'offerTitle' | 'description' | 'customer' | 'extra'>;

/** JSON with object keys sorted, so that the order a sender used does not change the version. */
function canonical(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
    if (typeof value === 'object' && value !== null) {
        const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`;
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- undefined for undefined, whatever the typings say
    return JSON.stringify(value) ?? 'null';
}

/**
 * The version of a lead's content: 16 hex digits of a hash over its normalised fields. An identical
 * repeat (a sender's retry) has the same version; a repeat that says something new has another.
 */
export function contentVersion(lead: Content): string {
    const { leadSource, action, offer, offerTitle, description, customer, extra } = lead;
    const content = canonical({ leadSource, action, offer, offerTitle, description, customer, extra });
    return createHash('sha256').update(content, 'utf8').digest('hex').slice(0, 16);
}

/**
 * Where a version of a lead stands among the others, as a string that sorts: storage's time of its
 * POST first, then, for two POSTs storage took in the same second, the receiving instance's time.
 * A message from before `queuedAt` existed has only its receiving time.
 */
export function versionOrder(lead: Pick<Lead, 'queuedAt' | 'receivedAt'>): string {
    return `${lead.queuedAt ?? lead.receivedAt} ${lead.receivedAt}`;
}

/**
 * The lead with its own receiving time as its order, where no fan-out stamped storage's: for a lead
 * going back to the leads queue from a poison queue or a file, whose new insertion time would
 * otherwise make it the newest version.
 */
export function keepingItsOrder<T extends Pick<Lead, 'queuedAt' | 'receivedAt'>>(lead: T): T {
    return { ...lead, queuedAt: lead.queuedAt ?? lead.receivedAt };
}

/** The fields a person reads, under the names the digest and the table use. */
const describedFields: readonly [string, (lead: Content) => string][] = [
    ['First name', (l) => l.customer.firstName],
    ['Last name', (l) => l.customer.lastName],
    ['E-mail', (l) => l.customer.email],
    ['Phone', (l) => l.customer.phone],
    ['Company', (l) => l.customer.company],
    ['Title', (l) => l.customer.title],
    ['Country', (l) => l.customer.country],
    ['Offer', (l) => l.offerTitle || l.offer],
    ['Description', (l) => l.description],
    ['Other fields', (l) => canonical(l.extra)],
];

/** The names of the fields that differ between two versions of a lead: "Title", "Phone", "Description". */
export function changedFields(before: Content, after: Content): string[] {
    return describedFields.filter(([, read]) => read(before) !== read(after)).map(([name]) => name);
}
