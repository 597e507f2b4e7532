import { customerFields, type CustomerField } from './fields';
import { dedupeKeyFor, leadIdFor } from './identity';
import type { Customer, Lead } from './lead';
import { canonicalAction, parseLeadSource } from './leadSource';
import type { RawLead } from './rawLead';

/** When and as which POST a lead arrived. */
export interface Receipt {
    receivedAt: Date;
    receiptId: string;
}

const testMarker = /MSFT_TEST/i;

function clean(text: string | undefined): string {
    return (text ?? '').normalize('NFC').trim();
}

function customerOf(raw: RawLead): Customer {
    const entries = customerFields.map((field: CustomerField) => [field, clean(raw.fields[field])]);
    const customer = Object.fromEntries(entries) as Customer;
    customer.email = customer.email.toLowerCase();
    return customer;
}

/**
 * Turns the fields of a lead into the app's one `Lead`. The combined LeadSource gives source,
 * action and offer; an explicit ActionCode field wins over the action inside LeadSource.
 */
export function normalizeLead(raw: RawLead, receipt: Receipt): Lead {
    const leadSource = clean(raw.fields.leadSource);
    const parts = parseLeadSource(leadSource);
    const action = canonicalAction(clean(raw.fields.actionCode) || parts.action);
    const offerTitle = clean(raw.fields.offerTitle);
    const customer = customerOf(raw);
    const dedupeKey = dedupeKeyFor(customer, parts.offer || offerTitle, action, receipt.receiptId);
    const texts = [leadSource, customer.email, customer.firstName, customer.lastName, customer.company];
    return {
        id: leadIdFor(dedupeKey),
        dedupeKey,
        receivedAt: receipt.receivedAt.toISOString(),
        receiptId: receipt.receiptId,
        format: raw.format,
        leadSource,
        source: parts.source,
        action,
        offer: parts.offer,
        publisherId: parts.publisherId,
        offerId: parts.offerId,
        offerTitle,
        description: clean(raw.fields.description),
        customer,
        isTest: texts.some((text) => testMarker.test(text)),
        doNotContact: action === 'DNC',
        extra: raw.extra,
    };
}
