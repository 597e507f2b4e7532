import { z } from 'zod';
import type { DeliveryState } from '../deliver/deliveryLog';

/** The text is that instant, written as toISOString writes it: a 30 February or a 25th hour is not. */
function roundTrips(text: string, length: number): boolean {
    const time = Date.parse(text.slice(0, length));
    return !Number.isNaN(time) && new Date(time).toISOString().slice(0, length) === text.slice(0, length);
}

const day = z
    .string()
    .regex(/^(19|20)\d{2}-\d{2}-\d{2}$/, { message: 'expected a day as YYYY-MM-DD, from 1900 to 2099' })
    .refine((text) => roundTrips(text, 10), { message: 'expected a day of the calendar' });
const deliveryStates = ['delivered', 'submitted', 'skipped', 'failed', 'pending', 'uncertain'] as const satisfies readonly DeliveryState[];
/** The states an operator acts on, read from the attention index: complete at any size. */
export const attentionFilters = ['failed', 'uncertain', 'waiting', 'poisoned'] as const;
export type AttentionFilter = (typeof attentionFilters)[number];
const states = [...deliveryStates, 'waiting', 'poisoned'] as const;

export function isAttentionFilter(state: string | undefined): state is AttentionFilter {
    return (attentionFilters as readonly string[]).includes(state ?? '');
}
const optionalText = (max: number) =>
    z
        .string()
        .trim()
        .max(max, { message: `at most ${max} characters` })
        .transform((text) => text || undefined)
        .optional();

/** The console's list filters, as query parameters; blank means unset. */
export const leadQuerySchema = z
    .object({
        q: optionalText(200),
        offer: optionalText(200),
        action: optionalText(40),
        state: z
            .enum(['', ...states], { message: `use one of ${states.join(', ')}` })
            .transform((text) => (text === '' ? undefined : text))
            .optional(),
        hideTest: z
            .enum(['', 'true', 'false'], { message: 'use true or false' })
            .transform((text) => text === 'true')
            .optional(),
        from: z.union([z.literal(''), day]).optional(),
        to: z.union([z.literal(''), day]).optional(),
        before: z
            .string()
            .regex(/^(19|20)\d{2}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z_[0-9a-f]{32}$/, { message: 'expected a position from a previous page' })
            .refine((text) => roundTrips(text, 24), { message: 'expected a position from a previous page' })
            .optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
    })
    .strict();

/** Parameters Azure itself may add to a URL (a function key), never filters. */
const platformParameters = ['code'];

export type LeadQuery = z.output<typeof leadQuerySchema> & { fromDay: string; toDay: string };

/** Partner Center keeps leads for six months; the console looks back a year unless told otherwise. */
export const defaultDays = 365;

export class QueryError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'QueryError';
    }
}

const maxQueryParameters = 50;

/** Reads the filters from a URL's query; an unknown or bad parameter is a QueryError naming it. */
export function parseLeadQuery(params: URLSearchParams, now = new Date()): LeadQuery {
    // The console's links carry a dozen; hundreds are no filter, and naming each would cost as much again.
    const count = params.size;
    if (count > maxQueryParameters) throw new QueryError(`The filters are not valid: there are ${count} query parameters; at most ${maxQueryParameters} are read.`);
    const parsed = leadQuerySchema.safeParse(Object.fromEntries([...params].filter(([name]) => !platformParameters.includes(name))));
    if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) =>
            issue.code === 'unrecognized_keys' ? `there is no filter ${issue.keys.map((k) => `"${k}"`).join(', ')}` : `${String(issue.path[0])} is "${params.get(String(issue.path[0])) ?? ''}": ${issue.message}`,
        );
        throw new QueryError(`The filters are not valid: ${problems.join('; ')}.`);
    }
    const toDay = parsed.data.to || now.toISOString().slice(0, 10);
    const fromDay = parsed.data.from || new Date(Date.parse(toDay) - (defaultDays - 1) * 86_400_000).toISOString().slice(0, 10);
    if (fromDay > toDay) throw new QueryError(`The filters are not valid: from (${fromDay}) is after to (${toDay}).`);
    return { ...parsed.data, fromDay, toDay };
}

/** The same filters as query parameters, for links to the next page and to the export. */
export function queryParams(query: LeadQuery, changes: Partial<Record<'before', string>> = {}): URLSearchParams {
    const params = new URLSearchParams();
    const values: Record<string, string | undefined> = {
        q: query.q,
        offer: query.offer,
        action: query.action,
        state: query.state,
        hideTest: query.hideTest ? 'true' : undefined,
        from: query.from || undefined,
        to: query.to || undefined,
        ...changes,
    };
    for (const [name, value] of Object.entries(values)) if (value) params.set(name, value);
    return params;
}
