import { createHash } from 'node:crypto';
import { referralReceiptPrefix, type Customer } from './lead';

function key(text: string): string {
    return text.normalize('NFC').trim().toLowerCase();
}

const details = (customer: Customer) => [customer.firstName, customer.lastName, customer.company, customer.phone, customer.country];

/** A lead with nothing that tells customers apart: the marketplace sends no personal data for .edu customers. */
export function isAnonymous(customer: Customer): boolean {
    return !customer.email && !details(customer).some(Boolean);
}

/**
 * Same customer, same offer, same action: the same lead. A customer is known by e-mail; leads
 * without one fall back to whatever details they carry. An anonymous lead is known only by the
 * POST that first brought its content (`anchor`): intake gives a retry of that POST the same
 * anchor, and anyone else's lead another. A referral from Partner Center's analytics download has
 * no e-mail, and a company and a country tell no two people of one company apart: it is known by
 * its referral, which its anchor names.
 */
export function dedupeKeyFor(customer: Customer, offer: string, action: string, anchor: string): string {
    const byReferral = anchor.startsWith(referralReceiptPrefix);
    const who = customer.email ? customer.email : byReferral ? `~${anchor}` : isAnonymous(customer) ? `~receipt:${anchor}` : `~${details(customer).join('/')}`;
    return [who, offer, action].map(key).join('|');
}

/** A stable id for a dedupe key: 32 hex digits, safe in URLs, table keys and file names. */
export function leadIdFor(dedupeKey: string): string {
    return createHash('sha256').update(dedupeKey, 'utf8').digest('hex').slice(0, 32);
}
