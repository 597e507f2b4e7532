import { parseCampaign } from './campaign';
import { customerFields, type CustomerField } from './fields';
import { dedupeKeyFor, isAnonymous, leadIdFor } from './identity';
import type { Customer, Lead } from './lead';
import { canonicalAction, parseLeadSource } from './leadSource';
import type { RawLead } from './rawLead';
import { contentVersion } from './version';

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
    const description = clean(raw.fields.description);
    const lead: Omit<Lead, 'version'> = {
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
        description,
        campaign: parseCampaign(description),
        customer,
        isTest: texts.some((text) => testMarker.test(text)),
        doNotContact: action === 'DNC',
        extra: raw.extra,
    };
    return { ...lead, version: contentVersion(lead) };
}

/**
 * The same anonymous lead as first posted in the POST `anchorReceiptId`: a sender's retry of a lead
 * without personal data takes the id of the first. Leads that carry personal data are unchanged.
 */
export function anchoredTo(lead: Lead, anchorReceiptId: string): Lead {
    if (!isAnonymous(lead.customer)) return lead;
    const dedupeKey = dedupeKeyFor(lead.customer, lead.offer || lead.offerTitle, lead.action, anchorReceiptId);
    return { ...lead, dedupeKey, id: leadIdFor(dedupeKey) };
}
