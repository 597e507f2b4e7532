import type { FieldMapping } from '../lead/fieldMapping';
import type { Lead } from '../lead/lead';

/**
 * A lead with every field filled, never sent anywhere: built into a CRM's record it shows which
 * fields the built-in mapping fills (empty ones are left out of a real record).
 */
const everyFieldLead: Lead = {
    id: '0'.repeat(32),
    dedupeKey: 'check',
    receivedAt: new Date(0).toISOString(),
    version: '0'.repeat(16),
    receiptId: 'check',
    format: 'json',
    leadSource: 'Check-Create|check',
    source: 'Check',
    action: 'Create',
    offer: 'check',
    publisherId: 'check',
    offerId: 'check',
    offerTitle: 'Check',
    description: 'Check',
    customer: { firstName: 'x', lastName: 'x', email: 'x@example.invalid', phone: '1', country: 'x', company: 'x', title: 'x' },
    campaign: {},
    isTest: true,
    doNotContact: false,
    extra: {},
};

/**
 * Every CRM field a lead can fill: the built-in ones `build` fills from a full lead (the mapping
 * already merged over them), and every field the mapping names, even one this lead leaves empty.
 */
export function mappedFieldNames(build: (lead: Lead, mapping: FieldMapping) => Record<string, string>, mapping: FieldMapping): string[] {
    const named = Object.entries(mapping).flatMap(([field, source]) => ('omit' in source ? [] : [field]));
    return [...new Set([...Object.keys(build(everyFieldLead, mapping)), ...named])];
}
