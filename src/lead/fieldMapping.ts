import { z } from 'zod';
import type { Lead } from './lead';
import { isMappableField, mappableFields, mappedValue, type MappableField } from './mappableFields';

/** One CRM field: a lead field, a constant, or left out (overriding a field the built-in mapping fills). */
export type FieldSource = { field: MappableField } | { constant: string } | { omit: true };
export type FieldMapping = Readonly<Record<string, FieldSource>>;

/**
 * `<CRM>_FIELDS`: a JSON object from the CRM's field name to a lead field (`"company"`,
 * `"offerId"`, `"campaign.utm_source"`), a constant (`"=Marketplace"`), or null to leave a built-in
 * field out. Refused, naming the lead field, when a value names no lead field.
 */
export const fieldMappingSchema = z.string().transform((text, ctx): FieldMapping => {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        ctx.addIssue({ code: 'custom', message: 'it is not valid JSON: give an object such as {"crm_field": "offerId", "other": "=Marketplace"}' });
        return z.NEVER;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        ctx.addIssue({ code: 'custom', message: 'give a JSON object from CRM field names to lead fields' });
        return z.NEVER;
    }
    const mapping: Record<string, FieldSource> = {};
    for (const [crmField, value] of Object.entries(parsed)) {
        if (value === null) mapping[crmField] = { omit: true };
        else if (typeof value === 'string' && value.startsWith('=')) mapping[crmField] = { constant: value.slice(1) };
        else if (typeof value === 'string' && isMappableField(value)) mapping[crmField] = { field: value };
        else {
            const shown = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
            ctx.addIssue({ code: 'custom', message: `"${crmField}" maps to ${shown}, which is no lead field; use one of ${mappableFields.join(', ')}, "=constant", or null` });
        }
    }
    // Object.fromEntries keeps a CRM field named "__proto__" as plain data.
    return Object.fromEntries(Object.entries(mapping));
});

/** The CRM's fields for a lead: the built-in mapping, with the setting's mapping merged over it. */
export function mappedFields(builtIn: Readonly<Record<string, string>>, mapping: FieldMapping, lead: Lead): Record<string, string> {
    const mapped = Object.entries(mapping).flatMap(([crmField, source]): [string, string][] => ('omit' in source ? [] : [[crmField, 'constant' in source ? source.constant : mappedValue(lead, source.field)]]));
    const kept = Object.entries(builtIn).filter(([crmField]) => !Object.hasOwn(mapping, crmField));
    return Object.fromEntries([...kept, ...mapped]);
}
