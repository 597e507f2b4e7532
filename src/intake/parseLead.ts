import type { Lead } from '../lead/lead';
import { normalizeLead, type Receipt } from '../lead/normalize';
import { bodyField, rawLeadFromForm, rawLeadFromJson, type RawLeadResult } from '../lead/rawLead';
import type { BodyKind } from './body';
import { IntakeError } from './intakeError';

/** The marketplace nests two levels deep; anything far deeper is an attack, refused before parsing. */
export const maxJsonDepth = 32;

/** The deepest nesting of arrays and objects in JSON text, without parsing it. */
export function jsonDepth(text: string): number {
    let depth = 0;
    let deepest = 0;
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
    }
    return deepest;
}

function parseJson(text: string): unknown {
    const depth = jsonDepth(text);
    if (depth > maxJsonDepth) {
        throw new IntakeError(400, `The body nests ${depth} levels deep; at most ${maxJsonDepth} are allowed.`);
    }
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

/** Parses a decoded body of the given kind into a lead, or throws an IntakeError naming what is wrong. */
export function parseLead(text: string, kind: BodyKind, receipt: Receipt): Lead {
    if (text.trim() === '') throw new IntakeError(400, 'The body is empty; send the lead as JSON or as a form.');
    const raw = kind === 'json' ? rawLeadFromJson(parseJson(text)) : rawLeadFromForm(new URLSearchParams(text));
    return leadOrError(raw, receipt);
}
