import type { Lead } from '../lead/lead';
import { normalizeLead, type Receipt } from '../lead/normalize';
import { bodyField, rawLeadFromForm, rawLeadFromJson, type RawLeadResult } from '../lead/rawLead';
import type { BodyKind } from './body';
import { IntakeError } from './intakeError';

/** The marketplace nests two levels deep; anything far deeper is an attack, refused before parsing. */
export const maxJsonDepth = 32;

/**
 * The deepest nesting of arrays and objects in JSON text, and how many object members it has (each
 * has one colon outside a string), in one pass without parsing it.
 */
export function jsonShape(text: string): { depth: number; members: number } {
    let depth = 0;
    let deepest = 0;
    let members = 0;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (inString) {
            if (c === 0x5c)
                i++; // backslash: skip the escaped character
            else if (c === 0x22) inString = false;
        } else if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
        else if (c === 0x7d || c === 0x5d) depth--;
        else if (c === 0x3a) members++;
    }
    return { depth: deepest, members };
}

function parseJson(text: string): unknown {
    const { depth, members } = jsonShape(text);
    if (depth > maxJsonDepth) {
        throw new IntakeError(400, `The body nests ${depth} levels deep; at most ${maxJsonDepth} are allowed.`);
    }
    if (members > maxFields) throw tooManyFields(members);
    try {
        return JSON.parse(text);
    } catch (error) {
        // The parser's own message quotes the body, which may hold personal data: give only the position.
        const position = /position (\d+)/.exec(String(error))?.[1];
        throw new IntakeError(400, `The body is not valid JSON${position ? ` (at position ${position})` : ''}.`);
    }
}

function leadOrError(result: RawLeadResult, receipt: Receipt): Lead {
    if (!result.ok) {
        const named = result.problems.map((p) => (p.field === bodyField ? p.message : `${p.field}: ${p.message}`)).join('; ');
        throw new IntakeError(400, `The lead is not valid: ${named}.`, result.problems);
    }
    return normalizeLead(result.lead, receipt);
}

/**
 * A marketplace lead has about fifteen fields; a body with hundreds is no lead, and each field costs
 * its lookup, its place in the stored lead and in its version: refused before that work.
 */
export const maxFields = 200;

function tooManyFields(count: number): IntakeError {
    return new IntakeError(400, `The body has ${count} fields; a lead has at most ${maxFields}.`);
}

/** The fields of a form body, counted by their separators without splitting it. */
function formFieldCount(text: string): number {
    let count = 1;
    for (let at = text.indexOf('&'); at !== -1; at = text.indexOf('&', at + 1)) count++;
    return count;
}

/** Parses a decoded body of the given kind into a lead, or throws an IntakeError naming what is wrong. */
export function parseLead(text: string, kind: BodyKind, receipt: Receipt): Lead {
    if (text.trim() === '') throw new IntakeError(400, 'The body is empty; send the lead as JSON or as a form.');
    if (kind === 'form') {
        const fields = formFieldCount(text);
        if (fields > maxFields) throw tooManyFields(fields);
        return leadOrError(rawLeadFromForm(new URLSearchParams(text)), receipt);
    }
    return leadOrError(rawLeadFromJson(parseJson(text)), receipt);
}
