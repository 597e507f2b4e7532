/** The customer details a lead can carry, under the names the lead model uses. */
export const customerFields = ['firstName', 'lastName', 'email', 'phone', 'country', 'company', 'title'] as const;

/** The fields that describe where a lead came from. */
export const originFields = ['leadSource', 'actionCode', 'offerTitle', 'description'] as const;

export type CustomerField = (typeof customerFields)[number];
export type OriginField = (typeof originFields)[number];
export type LeadField = CustomerField | OriginField;

/**
 * Every name a sender uses for a field, lower-cased: the marketplace's JSON names (`FirstName`,
 * `LeadSource`) and the web-to-lead form names of its test lead (`first_name`, `lead_source`).
 */
const fieldByLowerCaseName: ReadonlyMap<string, LeadField> = new Map<string, LeadField>([
    ['firstname', 'firstName'],
    ['first_name', 'firstName'],
    ['lastname', 'lastName'],
    ['last_name', 'lastName'],
    ['email', 'email'],
    ['phone', 'phone'],
    ['country', 'country'],
    ['company', 'company'],
    ['title', 'title'],
    ['leadsource', 'leadSource'],
    ['lead_source', 'leadSource'],
    ['actioncode', 'actionCode'],
    ['action_code', 'actionCode'],
    ['offertitle', 'offerTitle'],
    ['offer_title', 'offerTitle'],
    ['description', 'description'],
]);

/** The lead field a key names, matched case-insensitively, or undefined for an unknown key. */
export function fieldNamed(key: string): LeadField | undefined {
    return fieldByLowerCaseName.get(key.toLowerCase());
}

export function isCustomerField(field: LeadField): field is CustomerField {
    return (customerFields as readonly string[]).includes(field);
}
