import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { leadCsvColumns } from '../../src/csv/leadsCsv';
import { headerAliases, headerKey, HeaderError, importFieldNamed, importFields, planColumns, type ImportField } from '../../src/import/columns';

function fieldOf(header: string): ImportField | undefined {
    const plan = planColumns([header, 'Email']);
    return importFields.find((field) => plan.columns[field]?.some((column) => column.index === 0));
}

/** Asserts that planColumns refuses the header with a HeaderError whose message matches. */
function refuses(header: string[], map: Record<string, string>, message: RegExp): void {
    assert.throws(
        () => planColumns(header, map),
        (error: unknown) => error instanceof HeaderError && message.test(error.message),
    );
}

describe('matching CSV headers to lead fields', () => {
    it('knows the headers Partner Center and the app write, in any casing, spacing and punctuation', () => {
        const expected: [string, ImportField][] = [
            ['First name', 'firstName'],
            ['FirstName', 'firstName'],
            ['Last name', 'lastName'],
            ['LastName', 'lastName'],
            ['Email', 'email'],
            ['Email address', 'email'],
            ['Contact email', 'email'],
            ['Phone', 'phone'],
            ['Phone number', 'phone'],
            ['Company', 'company'],
            ['Company name', 'company'],
            ['Organization', 'company'],
            ['Title', 'title'],
            ['Job title', 'title'],
            ['Country', 'country'],
            ['Country/region', 'country'],
            ['Offer', 'offer'],
            ['Offer title', 'offerTitle'],
            ['Offer name', 'offerTitle'],
            ['OfferDisplayName', 'offerTitle'],
            ['Lead source', 'leadSource'],
            ['LeadSource', 'leadSource'],
            ['Source', 'source'],
            ['Action', 'actionCode'],
            ['ActionCode', 'actionCode'],
            ['Description', 'description'],
            ['Notes', 'description'],
            ['LeadCreationDateTime', 'createdTime'],
            ['Created', 'createdTime'],
            ['CreatedTime', 'createdTime'],
        ];
        for (const [header, field] of expected) {
            assert.equal(fieldOf(header), field, header);
            assert.equal(fieldOf(` ${header.toUpperCase().replace(/ /g, '_')} `), field, `${header} in another spelling`);
        }
        assert.equal(headerKey('Country/region'), 'countryregion');
        assert.equal(headerKey('\uFEFFE-mail'), 'email');
    });

    it('has no alias that two fields claim', () => {
        const claims = new Map<string, Set<ImportField>>();
        for (const field of importFields) for (const alias of headerAliases[field]) claims.set(headerKey(alias), (claims.get(headerKey(alias)) ?? new Set()).add(field));
        assert.deepEqual(
            [...claims].filter(([, fields]) => fields.size > 1),
            [],
        );
    });

    it('reads the app export with the combined LeadSource and the offer name first, and says which columns it ignores', () => {
        const plan = planColumns(leadCsvColumns);
        assert.deepEqual(
            plan.columns.leadSource?.map((column) => column.header),
            ['LeadSource'],
        );
        assert.deepEqual(
            plan.columns.source?.map((column) => column.header),
            ['Source'],
        );
        assert.deepEqual(
            plan.columns.offerTitle?.map((column) => column.header),
            ['OfferDisplayName'],
        );
        assert.deepEqual(plan.ignored, ['LastSeenAt', 'Occurrences', 'IsTest', 'DoNotContact']);
        assert.equal(plan.width, leadCsvColumns.length);
    });

    it('puts two columns for one field in alias order, whatever their order in the file', () => {
        const plan = planColumns(['Company name', 'Organization', 'Company']);
        assert.deepEqual(
            plan.columns.company?.map((column) => column.index),
            [2, 0, 1],
        );
    });

    it('reads a mapped column as its field, before any alias, and the mapped field name in any casing', () => {
        const plan = planColumns(['Org', 'Email', 'Company', 'Customer country'], { org: 'COMPANY', 'Customer Country': 'country' });
        assert.deepEqual(
            plan.columns.company?.map((column) => column.header),
            ['Org', 'Company'],
        );
        assert.deepEqual(
            plan.columns.country?.map((column) => column.header),
            ['Customer country'],
        );
        assert.deepEqual(plan.ignored, []);
        assert.equal(importFieldNamed('offer_title'), 'offerTitle');
    });

    it('refuses a map to an unknown field or from a missing header, and a header without any lead field, naming them', () => {
        refuses(['Email'], { Email: 'mail' }, /the field "mail", which is not one of firstName/);
        refuses(['Email'], { Org: 'company' }, /the column "Org", which the file does not have/);
        refuses(['Id', 'When'], {}, /None of the 2 columns \("Id", "When"\) is a lead field/);
        // A file without a header row: its first row is a customer's, and is never echoed.
        refuses(['Jane', 'jane.doe@contoso.example', '+1 425 555 0100', 'Contoso'], {}, /None of the 4 columns \("Jane", column 2, column 3, "Contoso"\) is a lead field[^]*add the header row/);
        // An id and a time alone are no lead.
        refuses(['LeadId', 'Created'], {}, /is a lead field/);
    });

    it('never throws anything but a HeaderError, whatever the header', () => {
        fc.assert(
            fc.property(fc.array(fc.string({ maxLength: 20 }), { maxLength: 8 }), (header) => {
                try {
                    const plan = planColumns(header);
                    const used = Object.values(plan.columns).flat().length;
                    assert.equal(used + plan.ignored.length, header.length);
                } catch (error) {
                    assert.ok(error instanceof HeaderError);
                }
            }),
        );
    });
});
