import { z } from 'zod';
import { fieldNamed, isCustomerField, type LeadField } from './fields';

/** The recognised fields of a lead as text, and the rest as sent. */
export interface RawLead {
    format: 'json' | 'form';
    fields: Partial<Record<LeadField, string>>;
    extra: Record<string, unknown>;
}

/** A problem with one field, named as the sender named it (`UserDetails.Email`, `first_name`). */
export interface FieldProblem {
    field: string;
    message: string;
}

/** The name problems with the body as a whole go by. */
export const bodyField = '(body)';

export type RawLeadResult = { ok: true; lead: RawLead } | { ok: false; problems: FieldProblem[] };

/** Text fields take strings, and numbers or booleans as their text; null means absent. */
const textValue = z.union([z.string(), z.number(), z.boolean(), z.null()]).transform((value) => (value === null ? '' : String(value)));

function describe(value: unknown): string {
    if (Array.isArray(value)) return 'an array';
    if (value === null) return 'null';
    return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class RawLeadBuilder {
    readonly fields: Partial<Record<LeadField, string>> = {};
    readonly extra: [string, unknown][] = [];
    readonly problems: FieldProblem[] = [];

    /** The first non-empty value wins when a field is sent twice under different casings. */
    addField(field: LeadField, sentName: string, value: unknown): void {
        const parsed = textValue.safeParse(value);
        if (!parsed.success) {
            this.problems.push({ field: sentName, message: `expected text, got ${describe(value)}` });
            return;
        }
        if (!this.fields[field]) this.fields[field] = parsed.data;
    }

    build(format: RawLead['format']): RawLeadResult {
        if (this.problems.length > 0) return { ok: false, problems: this.problems };
        if (!Object.values(this.fields).some((value) => value.trim() !== '')) {
            return {
                ok: false,
                problems: [{ field: bodyField, message: 'no lead fields were found: expected UserDetails, LeadSource, ActionCode, OfferTitle or Description (or the web-to-lead form fields)' }],
            };
        }
        // Object.fromEntries defines own properties, so a "__proto__" key stays plain data.
        return { ok: true, lead: { format, fields: this.fields, extra: Object.fromEntries(this.extra) } };
    }
}

function addUserDetails(builder: RawLeadBuilder, sentName: string, value: unknown): void {
    if (value === null || value === undefined) return;
    if (!isPlainObject(value)) {
        builder.problems.push({ field: sentName, message: `expected an object, got ${describe(value)}` });
        return;
    }
    for (const [key, inner] of Object.entries(value)) {
        const field = fieldNamed(key);
        if (field && isCustomerField(field)) builder.addField(field, `${sentName}.${key}`, inner);
        else builder.extra.push([`${sentName}.${key}`, inner]);
    }
}

/**
 * Reads the marketplace's JSON body. Property names match case-insensitively; customer details may
 * sit in `UserDetails` (which wins) or at the top level; unknown properties are kept in `extra`.
 */
export function rawLeadFromJson(body: unknown): RawLeadResult {
    if (!isPlainObject(body)) {
        return { ok: false, problems: [{ field: bodyField, message: `expected a JSON object, got ${describe(body)}` }] };
    }
    const builder = new RawLeadBuilder();
    const entries = Object.entries(body);
    const userDetails = entries.filter(([key]) => key.toLowerCase() === 'userdetails');
    for (const [key, value] of userDetails) addUserDetails(builder, key, value);
    for (const [key, value] of entries) {
        if (key.toLowerCase() === 'userdetails') continue;
        const field = fieldNamed(key);
        if (field) builder.addField(field, key, value);
        else builder.extra.push([key, value]);
    }
    return builder.build('json');
}

/** Reads a web-to-lead form body; a key sent more than once keeps its first non-empty value. */
export function rawLeadFromForm(form: URLSearchParams): RawLeadResult {
    const builder = new RawLeadBuilder();
    const extra = new Map<string, string[]>();
    for (const [key, value] of form) {
        const field = fieldNamed(key);
        if (field) builder.addField(field, key, value);
        else {
            // Appended in place: a copy per repeat made a body of one key sent 30,000 times quadratic.
            const values = extra.get(key);
            if (values) values.push(value);
            else extra.set(key, [value]);
        }
    }
    for (const [key, values] of extra) builder.extra.push([key, values.length === 1 ? values[0] : values]);
    return builder.build('form');
}
