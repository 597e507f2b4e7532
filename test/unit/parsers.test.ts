import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvocationContext } from '@azure/functions';
import fc from 'fast-check';
import { parseLeadQuery } from '../../src/console/leadQuery';
import { IntakeError } from '../../src/intake/intakeError';
import { maxFields, parseLead } from '../../src/intake/parseLead';
import { parseCampaign } from '../../src/lead/campaign';
import { escapeLogText, escapingContext } from '../../src/runtime/logText';
import { refusal } from '../helpers/intake';

const receipt = { receivedAt: new Date('2026-12-01T00:00:00Z'), receiptId: 'parsers' };
const size = 64 * 1024;

/** The fields a parsed lead keeps: its known fields and everything else it was sent. */
function fieldCount(lead: ReturnType<typeof parseLead>): number {
    return Object.values(lead.extra).reduce<number>((count, value) => count + (Array.isArray(value) ? value.length : 1), 0);
}

describe('the parsers of what clients send do work in proportion to it', () => {
    it('refuses a form body of one key sent 30,000 times by its count, before reading it (it once took 6 s)', () => {
        const body = `lead_source=AzureMarketplace-contoso${'&a'.repeat((size - 40) / 2)}`;
        const error = refusal(() => parseLead(body, 'form', receipt));
        assert.equal(error.status, 400);
        assert.match(error.message, new RegExp(`^The body has \\d+ fields; a lead has at most ${maxFields}\\.$`));
    });

    it('refuses JSON with more members than a lead has, before parsing it', () => {
        const members = Array.from({ length: maxFields + 1 }, (_, i) => `"k${i}":1`).join(',');
        const error = refusal(() => parseLead(`{"LeadSource":"x",${members}}`, 'json', receipt));
        assert.match(error.message, /^The body has 202 fields; a lead has at most 200\.$/);
    });

    it('keeps a lead of the most fields allowed', () => {
        const body = `lead_source=AzureMarketplace-contoso${Array.from({ length: maxFields - 1 }, (_, i) => `&k${i}=v`).join('')}`;
        assert.equal(fieldCount(parseLead(body, 'form', receipt)), maxFields - 1);
    });

    it('no body brings the lead model more fields than the limit, whatever its separators', () => {
        fc.assert(
            fc.property(fc.array(fc.constantFrom('a', '&', '=', 'lead_source=x', '%26', ';'), { maxLength: 2000 }), (parts) => {
                const body = parts.join('');
                try {
                    assert.ok(fieldCount(parseLead(body, 'form', receipt)) < maxFields);
                } catch (error) {
                    if (!(error instanceof IntakeError) || error.status !== 400) throw error;
                }
            }),
            { numRuns: 300 },
        );
    });

    it('finds campaign values in a Description built to make every brace span parse far before failing', () => {
        const description = `${'{'.repeat(16)}"utm_source":"${'x'.repeat(60_000)}"${'}'.repeat(16)} utm_campaign=winter`;
        assert.deepEqual(parseCampaign(description), { utm_campaign: 'winter' });
        assert.deepEqual(parseCampaign('{"utm_source":"partner"} and {"mktcmpid":"c-1"}'), { utm_source: 'partner', mktcmpid: 'c-1' });
        // The braces of prose are not tried as JSON, so they use up nothing.
        assert.deepEqual(parseCampaign('Need {pricing} for {team}. {"mktcmpid":"abc123"}'), { mktcmpid: 'abc123' });
        assert.deepEqual(parseCampaign(`${'{pricing} '.repeat(500)}{ "utm_source" : "partner" }`), { utm_source: 'partner' });
    });

    it('refuses a console query of hundreds of parameters without naming each', () => {
        const params = new URLSearchParams(Array.from({ length: 5000 }, (_, i) => `p${i}=1`).join('&'));
        assert.throws(() => parseLeadQuery(params), /^QueryError: The filters are not valid: there are 5000 query parameters; at most 50 are read\.$/);
    });
});

describe('log text', () => {
    // eslint-disable-next-line no-control-regex -- the control characters are what must not remain
    const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u200b-\u200d\u2060\ufeff]/;

    it('comes out of escapeLogText with no control, bidi or zero-width character, readable, and unchanged by a second pass', () => {
        fc.assert(
            fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (text) => {
                const escaped = escapeLogText(text);
                assert.doesNotMatch(escaped, unsafe);
                assert.equal(escapeLogText(escaped), escaped);
                if (!unsafe.test(text)) assert.equal(escaped, text);
            }),
            { numRuns: 500 },
        );
        assert.equal(escapeLogText('a\nb\u202ec'), 'a\\u{a}b\\u{202e}c');
    });

    it('is escaped in every argument of every log call a function makes', () => {
        const lines: unknown[][] = [];
        const context = new InvocationContext({ logHandler: (_level, ...args) => lines.push(args) });
        const escaping = escapingContext(context);
        escaping.log('Accepted lead: AzureMarketplace\n[forged] line');
        escaping.warn('x', new Error('bad\r\nvalue'));
        escaping.error('\u2066hidden\u2069');
        assert.deepEqual(lines[0], ['Accepted lead: AzureMarketplace\\u{a}[forged] line']);
        assert.match(String(lines[1]?.[1]), /^Error: bad\\u\{d\}\\u\{a\}value\n\s+at /);
        assert.deepEqual(lines[2], ['\\u{2066}hidden\\u{2069}']);
        // A message that carries a line made to look like a stack frame stays on the message's line.
        escaping.error(new Error('x\n    at [fake frame]\u001b[2K\u202e'));
        const [first = '', ...frames] = String(lines[3]?.[0]).split('\n');
        assert.equal(first, 'Error: x\\u{a}    at [fake frame]\\u{1b}[2K\\u{202e}');
        assert.ok(frames.length > 0 && frames.every((frame) => /^\s+at /.test(frame) && !frame.includes('fake')), frames.join('\n'));
        assert.equal(escaping.functionName, context.functionName);
    });
});
