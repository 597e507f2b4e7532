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

function isTestLead(leadSource: string, customer: Customer): boolean {
    return [leadSource, customer.email, customer.firstName, customer.lastName, customer.company].some((text) => testMarker.test(text));
}

function clean(text: string | undefined): string {
    return (text ?? '').normalize('NFC').trim();
}

/** Lower-case, then NFC again: lower-casing can leave combining marks out of canonical order (İ̖). */
function normalEmail(text: string): string {
    return clean(clean(text).toLowerCase());
}

function customerOf(raw: RawLead): Customer {
    const entries = customerFields.map((field: CustomerField) => [field, clean(raw.fields[field])]);
    const customer = Object.fromEntries(entries) as Customer;
    customer.email = normalEmail(customer.email);
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
        isTest: isTestLead(leadSource, customer),
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

/**
 * What is wrong with a lead that did not come out of normalizeLead as it stands: a message handed to
 * a delivery function by any path (the admin API, a replayed or edited poison message) must be a
 * lead the intake could have made. Its text is clean, everything derived from its fields is what
 * they give (source, offer and ids from LeadSource; the test and do-not-contact flags; the
 * version), and its id is its dedupe key's, which for a customer with details is their e-mail or
 * details, offer and action. Empty when it is in normal form. The campaign is not compared: it is
 * read again from the Description by each version of its parser, and a message queued before a
 * change to it must still be delivered.
 */
export function normalFormProblems(lead: Omit<Lead, 'version'> & { version?: string }): string[] {
    const problems: string[] = [];
    const texts: [string, string][] = [
        ['leadSource', lead.leadSource],
        ['offerTitle', lead.offerTitle],
        ['description', lead.description],
        ...customerFields.map((field): [string, string] => [`customer.${field}`, lead.customer[field]]),
    ];
    for (const [name, text] of texts) if (name !== 'customer.email' && text !== clean(text)) problems.push(`${name} is not trimmed and NFC-normalised`);
    if (lead.customer.email !== normalEmail(lead.customer.email)) problems.push('customer.email is not trimmed, lower-case and NFC-normalised');
    const parts = parseLeadSource(lead.leadSource);
    for (const name of ['source', 'offer', 'publisherId', 'offerId'] as const) if (lead[name] !== parts[name]) problems.push(`${name} is not what LeadSource gives`);
    if (lead.action !== canonicalAction(lead.action)) problems.push('action is not a canonical action');
    if (lead.isTest !== isTestLead(lead.leadSource, lead.customer)) problems.push('isTest does not match the MSFT_TEST marker');
    if (lead.doNotContact !== (lead.action === 'DNC')) problems.push('doNotContact does not match the DNC action');
    if (lead.id !== leadIdFor(lead.dedupeKey)) problems.push("id is not its dedupe key's");
    if (!isAnonymous(lead.customer) && lead.dedupeKey !== dedupeKeyFor(lead.customer, lead.offer || lead.offerTitle, lead.action, lead.receiptId)) {
        problems.push("dedupeKey is not the customer's, offer's and action's");
    }
    if (lead.version !== undefined && lead.version !== contentVersion(lead)) problems.push("version is not its content's");
    return problems;
}
