import { createHash } from 'node:crypto';
import type { Customer } from './lead';

function key(text: string): string {
    return text.normalize('NFC').trim().toLowerCase();
}

/**
 * Same customer, same offer, same action: the same lead. A customer is known by e-mail; leads
 * without one fall back to whatever details they carry; a lead with none at all (the marketplace
 * sends no personal data for .edu customers) is not merged with anyone's.
 */
export function dedupeKeyFor(customer: Customer, offer: string, action: string, receiptId: string): string {
    const details = [customer.firstName, customer.lastName, customer.company, customer.phone, customer.country];
    // With nothing that tells customers apart, two such leads are two leads: each POST is its own.
    const who = customer.email ? customer.email : details.some(Boolean) ? `~${details.join('/')}` : `~receipt:${receiptId}`;
    return [who, offer, action].map(key).join('|');
}

/** A stable id for a dedupe key: 32 hex digits, safe in URLs, table keys and file names. */
export function leadIdFor(dedupeKey: string): string {
    return createHash('sha256').update(dedupeKey, 'utf8').digest('hex').slice(0, 32);
}
