import { z } from 'zod';

/** The campaign values AppSource and Azure Marketplace pass through to a lead's Description. */
export const campaignKeys = ['mktcmpid', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const;
export type CampaignKey = (typeof campaignKeys)[number];

export const campaignSchema = z.object(Object.fromEntries(campaignKeys.map((key) => [key, z.string().optional()])) as Record<CampaignKey, z.ZodOptional<z.ZodString>>);
export type Campaign = Partial<Record<CampaignKey, string>>;

/** A campaign value is an identifier a person reads, not a document: longer ones are cut here. */
const maxValueLength = 200;

function cleanValue(value: unknown): string | undefined {
    if (typeof value !== 'string' && typeof value !== 'number') return undefined;
    const text = String(value)
        // eslint-disable-next-line no-control-regex -- control characters are what this removes
        .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
        .trim()
        .slice(0, maxValueLength);
    return text === '' ? undefined : text;
}

function keyOf(name: string): CampaignKey | undefined {
    const key = name.trim().toLowerCase().replace(/-/g, '_');
    return (campaignKeys as readonly string[]).includes(key) ? (key as CampaignKey) : undefined;
}

function decoded(text: string): string {
    try {
        return decodeURIComponent(text.replace(/\+/g, ' '));
    } catch {
        return text;
    }
}

/** Braces tried as the ends of a JSON object (of those that can be one): enough for any Description a person writes, bounded for any other. */
const maxBraces = 16;

/** Up to `maxBraces` positions of `char` that `accept` takes, from the start or from the end. */
function positionsOf(text: string, char: string, fromEnd: boolean, accept: (at: number) => boolean): number[] {
    const positions: number[] = [];
    for (let at = fromEnd ? text.lastIndexOf(char) : text.indexOf(char); at !== -1 && positions.length < maxBraces; at = fromEnd ? text.lastIndexOf(char, at - 1) : text.indexOf(char, at + 1)) {
        if (accept(at)) positions.push(at);
        if (at === 0 && fromEnd) break;
    }
    return positions;
}

/** JSON.parse attempts per Description: each failure costs an exception, however early it comes. */
const maxAttempts = 12;

/** How far whitespace is skipped next to a brace: JSON a person pastes has a little, if any. */
const maxWhitespace = 64;

/** The first character that is not JSON whitespace, stepping from `at` by `step`, within reach. */
function neighbour(text: string, at: number, step: 1 | -1): string {
    for (let i = at, n = 0; i >= 0 && i < text.length && n <= maxWhitespace; i += step, n++) {
        const c = text[i] ?? '';
        if (!' \t\r\n'.includes(c)) return c;
    }
    return '';
}

/** A brace that can open a JSON object: a key or the end follows it. */
const opensObject = (text: string, open: number) => ['"', '}'].includes(neighbour(text, open + 1, 1));

/** A brace that can close a JSON object: the end of a value (or the opening brace) precedes it. */
const closesObject = (text: string, close: number) => '"0123456789eEl]}{'.includes(neighbour(text, close - 1, -1) || '~');

/**
 * How far JSON.parse read before it gave up: V8 says "at position N"; an engine that does not is
 * taken to have read the whole span.
 */
function readUpTo(error: unknown, span: number): number {
    const position = /at position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    return position === undefined ? span : Math.min(span, Number(position) + 1);
}

/**
 * The JSON objects in the text, outermost first, from the first braces that open one and the last
 * that close it. Only braces that can begin or end an object are tried (not the braces of prose),
 * at most `maxAttempts` times, and what JSON.parse reads in all stays within twice the text's
 * length: a text built to fail late in every span costs no more than a couple of reads of it.
 */
function jsonObjects(text: string): Record<string, unknown>[] {
    const found: Record<string, unknown>[] = [];
    const closes = positionsOf(text, '}', true, (close) => closesObject(text, close));
    let budget = 2 * text.length;
    let attempts = maxAttempts;
    let after = -1;
    for (const open of positionsOf(text, '{', false, (at) => opensObject(text, at))) {
        if (open < after) continue;
        for (const close of closes) {
            if (close <= open) break;
            if (budget <= 0 || attempts-- <= 0) return found;
            const span = close + 1 - open;
            try {
                const parsed: unknown = JSON.parse(text.slice(open, close + 1));
                budget -= span;
                if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
                    found.push(parsed as Record<string, unknown>);
                    after = close;
                    break;
                }
            } catch (error) {
                // Not JSON between these braces: try a shorter span.
                budget -= readUpTo(error, span);
            }
        }
    }
    return found;
}

/** `key=value` pairs anywhere in the text: in a URL's query, or separated by `&`, `;`, `,`, spaces or line breaks. */
function pairs(text: string): [string, string][] {
    const found: [string, string][] = [];
    for (const match of text.matchAll(/(?:^|[?&;,\s])((?:mktcmpid|utm[_-](?:source|medium|campaign|term|content)))\s*[=:]\s*("[^"]*"|[^&;,\s"#]*)/gi)) {
        const [, name = '', raw = ''] = match;
        found.push([name, decoded(raw.replace(/^"|"$/g, ''))]);
    }
    return found;
}

/**
 * The campaign values in a Description: a JSON object (`{"mktcmpid":"…"}`), `key=value` pairs, or
 * a URL with a query. The first value found for a key wins, JSON before pairs. Never throws: a
 * Description is whatever the customer or the marketplace wrote.
 */
export function parseCampaign(description: string): Campaign {
    const campaign: Campaign = {};
    const take = (name: string, value: unknown) => {
        const key = keyOf(name);
        const text = cleanValue(value);
        if (key && text !== undefined && campaign[key] === undefined) campaign[key] = text;
    };
    try {
        for (const object of jsonObjects(description)) for (const [name, value] of Object.entries(object)) take(name, value);
        for (const [name, value] of pairs(description)) take(name, value);
    } catch {
        return campaign;
    }
    return campaign;
}
