import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalFormProblems } from '../../src/lead/normalize';
import { leadMessageSchema } from '../../src/queue/leadMessage';
import { IntakeError } from '../../src/intake/intakeError';
import { parseLead } from '../../src/intake/parseLead';
import { leadSchema } from '../../src/lead/lead';
import { parseLeadSource } from '../../src/lead/leadSource';

const receipt = { receivedAt: new Date('2026-11-22T00:00:00Z'), receiptId: 'fuzz' };

/** Known field names in any casing, and unknown ones. */
const key = fc.oneof(
    fc
        .constantFrom(
            'UserDetails',
            'LeadSource',
            'ActionCode',
            'OfferTitle',
            'Description',
            'FirstName',
            'LastName',
            'Email',
            'Phone',
            'Country',
            'Company',
            'Title',
            'first_name',
            'lead_source',
            '__proto__',
            'constructor',
        )
        .chain((name) =>
            // eslint-disable-next-line @typescript-eslint/no-misused-spread -- the names are ASCII
            fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }).map((upper) => [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join('')),
        ),
    fc.string({ maxLength: 12 }),
);

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('MSFT_TEST_1', 'AzureMarketplace-INS|a.b', 'AppSource (SPZA)-PLT|x.y', ''));
const value = fc.letrec((tie) => ({
    leaf: fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null)),
    node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 6 })),
})).node;
const leadLike = fc.dictionary(key, fc.oneof(value, fc.dictionary(key, value, { maxKeys: 8 })), { maxKeys: 10 });

function expectLeadOr400(run: () => unknown): void {
    try {
        const lead = leadSchema.parse(run());
        // Whatever the intake makes, a delivery function takes: the same checks on every path.
        assert.deepEqual(normalFormProblems(lead), []);
        assert.ok(leadMessageSchema.safeParse(lead).success);
    } catch (error) {
        if (!(error instanceof IntakeError) || error.status !== 400) throw error;
    }
}

describe('fuzzing the lead model', () => {
    it('never throws from the LeadSource parser', () => {
        fc.assert(
            fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.stringMatching(/^[A-Za-z ()_]*-?[A-Za-z_]*\|?[a-z0-9.-]*$/)), (source) => {
                const parts = parseLeadSource(source);
                assert.equal(typeof parts.source, 'string');
            }),
            { numRuns: 5000 },
        );
    });

    it('turns any JSON into a valid lead or a 400, never another error', () => {
        fc.assert(
            fc.property(fc.oneof(value, leadLike), (body) => expectLeadOr400(() => parseLead(JSON.stringify(body), 'json', receipt))),
            { numRuns: 3000 },
        );
    });

    it('turns any text sent as JSON into a valid lead or a 400', () => {
        fc.assert(
            fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' })), (body) => expectLeadOr400(() => parseLead(body, 'json', receipt))),
            { numRuns: 2000 },
        );
    });

    it('turns any form body into a valid lead or a 400', () => {
        const form = fc.array(fc.tuple(key, text), { maxLength: 12 }).map((pairs) => new URLSearchParams(pairs).toString());
        fc.assert(
            fc.property(fc.oneof(form, fc.string()), (body) => expectLeadOr400(() => parseLead(body, 'form', receipt))),
            { numRuns: 2000 },
        );
    });

    it('refuses deep nesting of any shape with a 400', () => {
        fc.assert(
            fc.property(fc.integer({ min: 33, max: 20_000 }), fc.constantFrom('[', '{"a":'), (depth, open) => {
                const close = open === '[' ? ']' : '}';
                const body = `{"LeadSource":"x","n":${open.repeat(depth)}1${close.repeat(depth)}}`;
                assert.throws(
                    () => parseLead(body, 'json', receipt),
                    (error: unknown) => error instanceof IntakeError && error.status === 400,
                );
            }),
            { numRuns: 50 },
        );
    });
});
