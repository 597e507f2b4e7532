import { campaignKeys, type CampaignKey } from './campaign';
import type { Lead } from './lead';

/**
 * The lead fields a CRM field can be mapped to (DYNAMICS_FIELDS, SALESFORCE_FIELDS, MARKETO_FIELDS,
 * HUBSPOT_FIELDS), each read as text: what a person sees in the digest, under stable names.
 */
const leadReaders = {
    id: (lead: Lead) => lead.id,
    receivedAt: (lead: Lead) => lead.receivedAt,
    firstName: (lead: Lead) => lead.customer.firstName,
    lastName: (lead: Lead) => lead.customer.lastName,
    email: (lead: Lead) => lead.customer.email,
    phone: (lead: Lead) => lead.customer.phone,
    company: (lead: Lead) => lead.customer.company,
    title: (lead: Lead) => lead.customer.title,
    country: (lead: Lead) => lead.customer.country,
    leadSource: (lead: Lead) => lead.leadSource,
    source: (lead: Lead) => lead.source,
    action: (lead: Lead) => lead.action,
    offer: (lead: Lead) => lead.offer,
    offerId: (lead: Lead) => lead.offerId,
    publisherId: (lead: Lead) => lead.publisherId,
    offerTitle: (lead: Lead) => lead.offerTitle || lead.offer,
    description: (lead: Lead) => lead.description,
    isTest: (lead: Lead) => String(lead.isTest),
    doNotContact: (lead: Lead) => String(lead.doNotContact),
} as const satisfies Record<string, (lead: Lead) => string>;

export type MappableField = keyof typeof leadReaders | `campaign.${CampaignKey}`;

const readers = {
    ...leadReaders,
    ...(Object.fromEntries(campaignKeys.map((key) => [`campaign.${key}`, (lead: Lead) => lead.campaign[key] ?? ''])) as Record<`campaign.${CampaignKey}`, (lead: Lead) => string>),
} satisfies Record<MappableField, (lead: Lead) => string>;

export const mappableFields = Object.keys(readers) as MappableField[];

export function isMappableField(name: string): name is MappableField {
    return Object.hasOwn(readers, name);
}

/** A lead field's value as text ('' when the lead has none). */
export function mappedValue(lead: Lead, field: MappableField): string {
    return readers[field](lead);
}
