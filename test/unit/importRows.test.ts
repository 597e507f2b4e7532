import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { csvCell, leadCsvHeader, leadCsvLine } from '../../src/csv/leadsCsv';
import { planColumns } from '../../src/import/columns';
import { parseCreatedTime } from '../../src/import/createdTime';
import { csvRecords, CsvSyntaxError, type CsvRecord } from '../../src/import/csvRecords';
import { leadFromRow, undefused, type RowLead } from '../../src/import/rowLead';
import { changedColumns, isUpdateOf } from '../../src/import/update';
import { parseLead } from '../../src/intake/parseLead';
import { isAnonymous } from '../../src/lead/identity';
import type { Lead } from '../../src/lead/lead';
import { normalFormProblems } from '../../src/lead/normalize';
import { analyticsCsv, analyticsHeaders, analyticsRows } from '../fixtures/partnerCenterAnalytics';
import { leadEntity, rowKeysFor } from '../../src/store/leadsTable';

const importedAt = new Date('2026-12-01T12:00:00.000Z');

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<string | Uint8Array> {
    for (const part of parts) yield await Promise.resolve(part);
}

async function records(...parts: (string | Uint8Array)[]): Promise<CsvRecord[]> {
    const all: CsvRecord[] = [];
    for await (const record of csvRecords(chunks(...parts))) all.push(record);
    return all;
}

/** Every data row of a CSV text as a lead, or the reason it was refused. */
async function rowsOf(text: string, map: Record<string, string> = {}): Promise<RowLead[]> {
    const [header, ...rows] = await records(text);
    assert.ok(header);
    const plan = planColumns(header.cells, map);
    return rows.map((row) => leadFromRow(row.cells, plan, importedAt));
}

async function leadOf(text: string, map: Record<string, string> = {}): Promise<Lead> {
    const [result] = await rowsOf(text, map);
    assert.ok(result?.ok, result && !result.ok ? result.reason : 'no row');
    return result.lead;
}

function posted(body: Record<string, unknown>, receivedAt = importedAt): Lead {
    return parseLead(JSON.stringify(body), 'json', { receivedAt, receiptId: 'posted-1' });
}

/** The lead as the app exports it: through its leads-table row and leadCsvLine. */
function exported(lead: Lead): string {
    return leadCsvHeader() + leadCsvLine(leadEntity(lead, rowKeysFor(lead.id, new Date('2026-12-01T08:00:00.000Z'))));
}

const text = fc.string({ maxLength: 24 }).filter((s) => s.trim() === s && !s.includes('\u0000'));
const customer = fc.record({ FirstName: text, LastName: text, Email: fc.oneof(fc.constant(''), fc.emailAddress()), Phone: fc.oneof(text, fc.constant('+1 425 555 0100')), Company: text, Title: text, Country: text });
const origin = fc.record({
    LeadSource: fc.constantFrom('AzureMarketplace-INS|contoso.analytics', 'AppSource (SPZA)-PLT|fabrikam.crm', 'AzurePortal-Create|contoso.vm', 'AzureMarketplace'),
    ActionCode: fc.constantFrom('', 'INS', 'DNC'),
    OfferTitle: fc.constantFrom('', 'Contoso Analytics', '=HYPERLINK("x")'),
    Description: fc.oneof(text, fc.constant('@mention -minus +plus')),
});

describe("undoing the export's formula defusing", () => {
    it('gives back what csvCell was given, through a real CSV parse', async () => {
        await fc.assert(
            fc.asyncProperty(fc.string({ maxLength: 30 }), async (value) => {
                fc.pre(!/^'[=+\-@\t\r]/.test(value));
                const [record] = await records(`a,b\r\n${csvCell(value)},x\r\n`).then((all) => all.slice(1));
                assert.deepEqual(record?.cells.map(undefused), [value, 'x']);
            }),
        );
    });

    it('keeps a quote that csvCell did not add', () => {
        assert.equal(undefused("'+1 425"), '+1 425');
        assert.equal(undefused("'=1"), '=1');
        assert.equal(undefused("O'Brien"), "O'Brien");
        assert.equal(undefused("'quoted'"), "'quoted'");
    });
});

describe('creation times', () => {
    it('reads ISO 8601 and month/day/year, without a zone as UTC', () => {
        const cases: [string, string][] = [
            ['2024-05-13T10:22:33.000Z', '2024-05-13T10:22:33.000Z'],
            ['2024-05-13T10:22:33.1234567Z', '2024-05-13T10:22:33.123Z'],
            ['2024-05-13T10:22:33+02:00', '2024-05-13T08:22:33.000Z'],
            ['2024-05-13 10:22', '2024-05-13T10:22:00.000Z'],
            ['2024-05-13', '2024-05-13T00:00:00.000Z'],
            ['5/13/2024 10:22:33 AM', '2024-05-13T10:22:33.000Z'],
            ['5/13/2024 12:05 PM', '2024-05-13T12:05:00.000Z'],
            ['5/13/2024 12:05 AM', '2024-05-13T00:05:00.000Z'],
            ['05/13/2024 22:05', '2024-05-13T22:05:00.000Z'],
            ['5/13/2024', '2024-05-13T00:00:00.000Z'],
        ];
        for (const [input, iso] of cases) assert.equal(parseCreatedTime(input)?.toISOString(), iso, input);
    });

    it('refuses what is not a date rather than guessing', () => {
        for (const input of ['yesterday', '13/5/2024', '2024-02-30', '2024-05-13T25:00', '5/13/2024 13:00 PM', '1715595753', '']) assert.equal(parseCreatedTime(input), undefined, input);
    });

    it('reads back every instant the app writes', () => {
        fc.assert(fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), (date) => assert.equal(parseCreatedTime(date.toISOString())?.getTime(), date.getTime())));
    });
});

describe('a CSV row as a lead', () => {
    it('gives a lead from the app export the id, source, action, offer, customer and creation time it had, and the same version', async () => {
        await fc.assert(
            fc.asyncProperty(customer, origin, fc.date({ min: new Date('2020-01-01'), max: importedAt, noInvalidDate: true }), async (userDetails, fields, receivedAt) => {
                const body = { UserDetails: userDetails, ...fields };
                const original = posted(body, receivedAt);
                // A lead without personal data is known by the POST that brought it: see the LeadId test below.
                fc.pre(!isAnonymous(original.customer));
                // The one value the export cannot tell from a defused one: a cell that itself starts with ' and a formula character.
                fc.pre(![...Object.values(userDetails), ...Object.values(fields)].some((value) => /^'[=+\-@\t\r]/.test(value)));
                const lead = await leadOf(exported(original));
                assert.equal(lead.id, original.id);
                assert.equal(lead.dedupeKey, original.dedupeKey);
                assert.equal(lead.receivedAt, original.receivedAt);
                assert.deepEqual(lead.customer, original.customer);
                assert.deepEqual([lead.source, lead.action, lead.offer, lead.publisherId, lead.offerId], [original.source, original.action, original.offer, original.publisherId, original.offerId]);
                assert.equal(lead.description, original.description);
                assert.equal(lead.offerTitle || lead.offer, original.offerTitle || original.offer);
                if (original.offerTitle !== original.offer) assert.equal(lead.version, original.version);
                assert.match(lead.receiptId, /^import-[0-9a-f]{32}$/);
            }),
            { numRuns: 200 },
        );
    });

    it('brings back a phone that starts with + and a field that starts with =', async () => {
        const original = posted({ UserDetails: { Email: 'ada@contoso.example', Phone: '+1 425 555 0100' }, LeadSource: 'AzureMarketplace-INS|contoso.analytics', Description: '=SUM(A1:A9)' });
        const csv = exported(original);
        assert.match(csv, /'\+1 425/);
        const lead = await leadOf(csv);
        assert.equal(lead.customer.phone, '+1 425 555 0100');
        assert.equal(lead.description, '=SUM(A1:A9)');
        assert.equal(lead.version, original.version);
    });

    it('composes the combined LeadSource from separate source, action and offer id columns: the id intake gives', async () => {
        const lead = await leadOf('First name,Email address,Source,Action,Offer,Offer name\r\nAda,Ada@Contoso.example,AzureMarketplace,INS,contoso.analytics,Contoso Analytics\r\n');
        const original = posted({ UserDetails: { FirstName: 'Ada', Email: 'ada@contoso.example' }, LeadSource: 'AzureMarketplace-INS|contoso.analytics', OfferTitle: 'Contoso Analytics' });
        assert.equal(lead.leadSource, 'AzureMarketplace-INS|contoso.analytics');
        assert.equal(lead.id, original.id);
        assert.equal(lead.version, original.version);
        assert.deepEqual([lead.publisherId, lead.offerId, lead.offerTitle], ['contoso', 'analytics', 'Contoso Analytics']);
    });

    it('reads a Partner-Center-shaped row as intake reads the same lead posted with split fields', async () => {
        const lead = await leadOf('Lead source,Action,Offer name,Company name,Email address,Created\r\nAppSource (SPZA),PLT,Fabrikam CRM,Fabrikam,bob@fabrikam.example,2024-05-13T10:22:33Z\r\n');
        const original = posted({ UserDetails: { Company: 'Fabrikam', Email: 'bob@fabrikam.example' }, LeadSource: 'AppSource (SPZA)', ActionCode: 'PLT', OfferTitle: 'Fabrikam CRM' });
        assert.equal(lead.id, original.id);
        assert.equal(lead.version, original.version);
        assert.equal(lead.receivedAt, '2024-05-13T10:22:33.000Z');
    });

    it('takes an offer column holding a name as the offer title', async () => {
        const lead = await leadOf('Email,Lead source,Offer\r\na@b.example,AzureMarketplace-INS,Contoso Analytics\r\n');
        assert.deepEqual([lead.offer, lead.offerTitle, lead.action], ['', 'Contoso Analytics', 'INS']);
    });

    it('reads a mapped column', async () => {
        const lead = await leadOf('Email,Org\r\na@b.example,Contoso\r\n', { Org: 'company' });
        assert.equal(lead.customer.company, 'Contoso');
    });

    it('derives the receipt id from the row, so the same row is the same POST and another row another', async () => {
        const header = 'Email,Phone,Created\r\n';
        const [a, b, c, d] = await rowsOf(`${header}a@b.example,1,2024-05-13\r\na@b.example,1,2024-05-13\r\na@b.example,2,2024-05-13\r\na@b.example,1,\r\n`);
        assert.ok(a?.ok && b?.ok && c?.ok && d?.ok);
        assert.equal(a.lead.receiptId, b.lead.receiptId);
        assert.notEqual(a.lead.receiptId, c.lead.receiptId);
        assert.notEqual(a.lead.receiptId, d.lead.receiptId);
        assert.equal(a.lead.id, c.lead.id, 'the same customer, offer and action');
        assert.equal(d.lead.receivedAt, importedAt.toISOString(), 'a row without a creation time is received at the import');
        const [again] = await rowsOf(`${header}a@b.example,1,\r\n`);
        assert.ok(again?.ok);
        assert.equal(again.lead.receiptId, d.lead.receiptId, 'and is the same POST when imported again later');
    });

    it('gives a lead without personal data the id its row carries to look up', async () => {
        const [row] = await rowsOf(`LeadId,LeadSource,Country\r\n${'ab'.repeat(16)},AzureMarketplace-INS|contoso.analytics,\r\n`);
        assert.ok(row?.ok);
        assert.equal(row.knownId, 'ab'.repeat(16));
        const [named] = await rowsOf(`LeadId,LeadSource,Email\r\n${'ab'.repeat(16)},AzureMarketplace-INS|contoso.analytics,a@b.example\r\n`);
        assert.ok(named?.ok);
        assert.equal(named.knownId, undefined, 'a lead with an e-mail has the id the model derives');
    });

    it('refuses a row with another cell count, no lead fields or an unreadable date, naming the column and never a customer value', async () => {
        const results = await rowsOf('Email,Company,Created\r\nsecret@contoso.example,Secret Corp\r\n,,2024-05-13\r\nsecret@contoso.example,Secret Corp,13/05/2024\r\n');
        const reasons = results.map((result) => (result.ok ? 'imported' : result.reason));
        assert.deepEqual(reasons, [
            'The row has 2 cells where the header has 3.',
            'The row has no lead fields: every column the import reads is empty.',
            'The creation time in column "Created" is not a date: use ISO 8601 (2024-05-13T10:22:33Z) or month/day/year (5/13/2024 10:22:33 AM).',
        ]);
    });
});

describe('reading CSV as it streams in', () => {
    it('drops a byte-order mark, reads CRLF and quoted line breaks, and numbers rows and lines', async () => {
        const all = await records('\uFEFFEmail,Description\r\na@b.example,"two\r\nlines"\r\n\r\nc@d.example,one\r\n');
        assert.deepEqual(
            all.map((record) => [record.row, record.line, record.cells]),
            [
                [0, 1, ['Email', 'Description']],
                [1, 2, ['a@b.example', 'two\r\nlines']],
                [2, 5, ['c@d.example', 'one']],
            ],
        );
    });

    it('decodes a character split between two chunks', async () => {
        const bytes = Buffer.from('\uFEFFCompany\nZürich Äpfel\n', 'utf8');
        const split = bytes.indexOf(0xc3) + 1;
        const all = await records(bytes.subarray(0, split), bytes.subarray(split));
        assert.deepEqual(all[1]?.cells, ['Zürich Äpfel']);
    });

    it('gives every record before a syntax error, then the error with the line of the broken row', async () => {
        const seen: string[][] = [];
        await assert.rejects(
            async () => {
                for await (const record of csvRecords(chunks('Email\n', 'a@b.example\nc@d.example\n"never closed\nx\n'))) seen.push(record.cells);
            },
            (error: unknown) => error instanceof CsvSyntaxError && error.line === 4 && /row 3 \(starting on line 4\): a quoted cell is never closed/.test(error.message),
        );
        assert.deepEqual(seen, [['Email'], ['a@b.example'], ['c@d.example']]);
    });

    it('stops at a broken quote in the middle of a chunk, after the rows before it in that chunk', async () => {
        const seen: string[][] = [];
        await assert.rejects(
            async () => {
                for await (const record of csvRecords(chunks('Email,Company\r\na@b.example,"Contoso"\r\nc@d.example,"Fabrikam"Inc\r\ne@f.example,x\r\n'))) seen.push(record.cells);
            },
            (error: unknown) => error instanceof CsvSyntaxError && error.line === 3 && /row 2 \(starting on line 3\): a quoted cell has text after its closing quote/.test(error.message),
        );
        assert.deepEqual(seen, [
            ['Email', 'Company'],
            ['a@b.example', 'Contoso'],
        ]);
    });
});

describe("deciding whether an import updates the app's lead", () => {
    const held = posted({ UserDetails: { Email: 'ada@contoso.example', Title: 'CTO', Phone: '1' }, LeadSource: 'AzureMarketplace-INS|contoso.analytics' }, new Date('2024-05-13T10:00:00Z'));
    const row = leadEntity(held, rowKeysFor(held.id, new Date('2024-05-13T10:00:01Z')));

    it('is an update when newer and different in a column the file has; not when older, or different only in what the file lacks', async () => {
        const newer = await leadOf('Email,Title,Lead source,Created\r\nada@contoso.example,CEO,AzureMarketplace-INS|contoso.analytics,2024-06-01T00:00:00Z\r\n');
        assert.deepEqual(changedColumns(newer, row, ['email', 'title', 'leadSource']), ['Title']);
        assert.equal(isUpdateOf(newer, row, ['email', 'title', 'leadSource', 'createdTime']), true);
        const older = await leadOf('Email,Title,Lead source,Created\r\nada@contoso.example,CEO,AzureMarketplace-INS|contoso.analytics,2024-05-01T00:00:00Z\r\n');
        assert.equal(isUpdateOf(older, row, ['email', 'title', 'leadSource', 'createdTime']), false);
        const same = await leadOf('EMAIL,Lead source,Created\r\n Ada@Contoso.example ,AzureMarketplace-INS|contoso.analytics,2024-06-01T00:00:00Z\r\n');
        assert.equal(isUpdateOf(same, row, ['email', 'leadSource', 'createdTime']), false, 'title and phone are not in the file');
    });
});

describe('what a row may not say', () => {
    const plan = planColumns(['Email', 'Company', 'Created']);

    it('refuses a creation time more than a day after the import, and never quotes the cell', () => {
        const refused = leadFromRow(['ada@contoso.example', 'Contoso', '2205-01-01T00:00:00Z'], plan, importedAt);
        assert.deepEqual(refused, { ok: false, reason: 'The creation time in column "Created" is more than a day after the import: a lead cannot have been created then.' });
        const shifted = leadFromRow(['Contoso', 'ada@contoso.example', 'Ada Lovelace'], plan, importedAt);
        assert.equal(shifted.ok, false);
        assert.doesNotMatch(JSON.stringify(shifted), /Ada|ada@/);
    });

    it('says whether the row gave its own creation time', () => {
        const timed = leadFromRow(['ada@contoso.example', 'Contoso', '2026-11-30T10:00:00Z'], plan, importedAt);
        const untimed = leadFromRow(['ada@contoso.example', 'Contoso', ''], plan, importedAt);
        assert.ok(timed.ok && timed.timed);
        assert.ok(untimed.ok && !untimed.timed);
    });
});

describe('the encoding of a file', () => {
    async function cellsOf(bytes: Uint8Array): Promise<string[][]> {
        const rows: string[][] = [];
        for await (const record of csvRecords(Readable.from([bytes]))) rows.push(record.cells);
        return rows;
    }

    it('refuses text that is not UTF-8 (Excel\'s "CSV (Comma delimited)"), after the rows before it', async () => {
        const windows1252 = Buffer.concat([Buffer.from('Company\r\nContoso\r\nM'), Buffer.from([0xfc]), Buffer.from('ller GmbH\r\n')]);
        const read: string[][] = [];
        await assert.rejects(
            async () => {
                for await (const record of csvRecords(Readable.from([windows1252]))) read.push(record.cells);
            },
            (error: unknown) => error instanceof CsvSyntaxError && /not UTF-8 text .* save it as "CSV UTF-8"/.test(error.message),
        );
        assert.doesNotMatch(JSON.stringify(read), /\ufffd/, 'nothing read with replacement characters');
    });

    it('reads UTF-16 with its byte-order mark, as Excel\'s "Unicode Text" writes it', async () => {
        const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Company\r\nMüller GmbH\r\n', 'utf16le')]);
        assert.deepEqual(await cellsOf(utf16), [['Company'], ['Müller GmbH']]);
    });
});

describe('a "Customer name" column', () => {
    it('fills first and last name: "Last, First" at its comma, else the first word and the rest; one word is the last name', async () => {
        const leads = await rowsOf(['Customer name,Email', 'Ada Lovelace,a@x.example', '"Lovelace, Ada",b@x.example', 'Ludwig  van Beethoven,c@x.example', 'Plato,d@x.example', ''].join('\n'));
        assert.deepEqual(
            leads.map((row) => (row.ok ? [row.lead.customer.firstName, row.lead.customer.lastName] : row.reason)),
            [
                ['Ada', 'Lovelace'],
                ['Ada', 'Lovelace'],
                ['Ludwig', 'van Beethoven'],
                ['', 'Plato'],
            ],
        );
    });

    it('gives way to first and last name columns where a row has them', async () => {
        const lead = await leadOf(['First name,Last name,Customer name,Email', 'Grace,Hopper,Someone Else,g@x.example', ''].join('\n'));
        assert.deepEqual([lead.customer.firstName, lead.customer.lastName], ['Grace', 'Hopper']);
    });
});

describe("Partner Center's analytics leads download", () => {
    it("reads every one of its 19 columns: lead fields mapped, the rest kept in the lead's other fields", () => {
        const plan = planColumns([...analyticsHeaders]);
        const fieldOf = (header: string) => Object.entries(plan.columns).find(([, columns]) => columns.some((column) => column.header === header))?.[0];
        assert.deepEqual(Object.fromEntries(['Referral ID', 'Creation Date', 'Customer Country', 'Customer Name', 'Lead Source', 'Call to action', 'Offer ID', 'Offer name'].map((header) => [header, fieldOf(header)])), {
            'Referral ID': 'referralId',
            'Creation Date': 'createdTime',
            'Customer Country': 'country',
            'Customer Name': 'company',
            'Lead Source': 'leadSource',
            'Call to action': 'actionCode',
            'Offer ID': 'offer',
            'Offer name': 'offerTitle',
        });
        assert.deepEqual(plan.ignored, []);
        assert.deepEqual(
            plan.kept?.map((column) => column.header),
            ['Referral ID', 'Updated Date', 'PartnerID', 'Customer City', 'Lead Type', 'Referral program', 'Business profile ID', 'Lead currency', 'Lead value', 'Lead value (USD)', 'Status', 'Status Reason'],
        );
    });

    it('maps each row to the lead intake would make of it: creation time, company, country, source and action as codes, offer id and name', async () => {
        const leads = (await rowsOf(analyticsCsv())).map((row) => {
            assert.ok(row.ok, row.ok ? '' : row.reason);
            return row.lead;
        });
        assert.deepEqual(
            leads.map((lead) => [lead.receivedAt, lead.customer.company, lead.customer.country, lead.source, lead.action, lead.offer, lead.offerTitle, lead.customer.firstName, lead.customer.lastName]),
            [
                ['2026-08-14T09:05:00.000Z', 'Northwind Traders', 'Germany', 'AppSource', 'PLT', 'northwind-crm', 'Northwind CRM', '', ''],
                ['2026-09-02T00:00:00.000Z', 'Northwind Traders', 'Germany', 'AppSource', 'PLT', 'northwind-crm', 'Northwind CRM', '', ''],
                ['2026-10-11T14:30:00.000Z', 'Tailspin Toys', 'United States', 'AzureMarketplace', 'INS', 'tailspin-vm', 'Tailspin VM', '', ''],
                ['2026-11-20T08:00:00.000Z', 'Fabrikam', 'France', 'AzurePortal', 'StartTestDrive', 'fabrikam-demo', 'Fabrikam Demo', '', ''],
            ],
        );
        assert.deepEqual(leads[2]?.extra, {
            'Referral ID': '7f3c9a10-0003-4d1e-9c55-000000000003',
            PartnerID: '4100001',
            'Customer City': 'Seattle',
            'Lead Type': 'Qualified lead',
            'Referral program': 'Marketplace',
            'Business profile ID': 'bp-002',
            'Lead currency': 'USD',
            'Lead value': '1200',
            'Lead value (USD)': '1200',
            Status: 'Won',
            'Status Reason': 'Purchased',
        });
        for (const lead of leads) assert.deepEqual(normalFormProblems(lead), [], 'a lead the delivery functions accept');
    });

    it('knows a lead by its Referral ID: two people of one company are two leads, and the same referral downloaded again is the same lead', async () => {
        const [first, second] = await rowsOf(analyticsCsv());
        assert.ok(first?.ok && second?.ok);
        assert.notEqual(first.lead.id, second.lead.id, 'one company, one country, one offer and action: two referrals');
        const later = analyticsRows.map((row, i) => (i === 0 ? row.map((cell, c) => (analyticsHeaders[c] === 'Status' ? 'Won' : analyticsHeaders[c] === 'Updated Date' ? '12/1/2026' : cell)) : row));
        const [again] = await rowsOf(analyticsCsv(later));
        assert.ok(again?.ok);
        assert.equal(again.lead.id, first.lead.id, 'the status changed, the referral did not');
        assert.equal(again.lead.receiptId, first.lead.receiptId, 'a repeat of the same receipt, never counted as another POST');
        assert.equal(again.lead.receivedAt, first.lead.receivedAt);
    });

    it('reads the calls to action and sources in words wherever a file gives them', async () => {
        const leads = await rowsOf(
            [
                'Email,Lead source,Call to action,Offer',
                'a@x.example,Azure Marketplace,Free trial,contoso.app',
                'b@x.example,Azure portal,Subscribe,contoso.app',
                'c@x.example,AzureMarketplace-INS|contoso.app,,',
                'd@x.example,Somewhere,Wave hello,contoso.app',
                '',
            ].join('\n'),
        );
        assert.deepEqual(
            leads.map((row) => (row.ok ? [row.lead.source, row.lead.action, row.lead.offer] : row.reason)),
            [
                ['AzureMarketplace', 'INS', 'contoso.app'],
                ['AzurePortal', 'Create', 'contoso.app'],
                ['AzureMarketplace', 'INS', 'contoso.app'],
                ['Somewhere', 'Wave hello', 'contoso.app'],
            ],
        );
    });
});
