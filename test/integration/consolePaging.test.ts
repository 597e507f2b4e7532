import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TransactionAction } from '@azure/data-tables';
import { readSettings } from '../../src/config/settings';
import { ConsoleData } from '../../src/console/consoleData';
import { parseLeadQuery } from '../../src/console/leadQuery';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { parseLead } from '../../src/intake/parseLead';
import { leadEntity, LeadsTable, rowKeysFor, type LeadEntity } from '../../src/store/leadsTable';
import { documentedSample } from '../helpers/samples';

const dayMs = 86_400_000;
const now = Date.parse('2026-11-30T12:00:00.000Z');

interface PagedTable {
    azurite: Azurite;
    data: ConsoleData;
    /** Every row key, newest first: what a full sort of the table lists. */
    expected: string[];
}

/** A leads table of its own, filled with a row per time (the company of each from `companyOf`), written a partition's transaction at a time. */
async function tableWith(name: string, times: readonly number[], companyOf: (i: number) => string = () => 'Contoso'): Promise<PagedTable> {
    const azurite = await startAzurite();
    const s = readSettings({ AzureWebJobsStorage: azurite.connectionString, LEADS_TABLE: name });
    const table = await LeadsTable.connect(s.storage, s.LEADS_TABLE);
    await table.ensureTable();
    const template = parseLead(JSON.stringify(documentedSample()), 'json', { receivedAt: new Date(now), receiptId: 'r' });
    const byPartition = new Map<string, LeadEntity[]>();
    for (const [i, t] of times.entries()) {
        const id = (i + 1).toString(16).padStart(32, '0');
        const keys = rowKeysFor(id, new Date(t));
        const row = { ...leadEntity({ ...template, id, customer: { ...template.customer, company: companyOf(i) } }, keys), CreatedTime: new Date(t).toISOString() };
        byPartition.set(keys.partitionKey, [...(byPartition.get(keys.partitionKey) ?? []), row]);
    }
    for (const rows of byPartition.values()) {
        for (let at = 0; at < rows.length; at += 100) await table.client.submitTransaction(rows.slice(at, at + 100).map((row): TransactionAction => ['create', { ...row }]));
    }
    const expected = [...byPartition.values()]
        .flat()
        .map((row) => row.rowKey)
        .sort()
        .reverse();
    return { azurite, data: await ConsoleData.connect(s), expected };
}

/** Every page of a query, following `next`. */
async function allPages(data: ConsoleData, params: Record<string, string>): Promise<string[]> {
    const seen: string[] = [];
    let before: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
        const page = await data.page(parseLeadQuery(new URLSearchParams({ ...params, ...(before ? { before } : {}) }), new Date(now)));
        seen.push(...page.items.map((item) => item.position));
        if (!page.next) return seen;
        before = page.next;
    }
    throw new Error('More than 100 pages.');
}

/*
 * Newest first by key ranges: rows spread over weeks, some minutes dense and some days empty, read
 * page by page, must come back exactly as a full sort of the table would list them.
 */
describe('console paging over the leads table', () => {
    let paged: PagedTable;

    before(async () => {
        // A burst of 120 leads within two minutes, one a day for 20 days, one 200 days back, and none in between.
        const times = [...Array.from({ length: 120 }, (_, i) => now - i * 1000), ...Array.from({ length: 20 }, (_, i) => now - (i + 2) * dayMs - 3_600_000), now - 200 * dayMs];
        paged = await tableWith('PagingLeads', times, (i) => (i % 3 === 0 ? 'Fabrikam' : 'Contoso'));
    });

    after(async () => {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning it
        await paged?.azurite.stop();
    });

    it('lists every lead of the range once, newest first, across dense minutes, days and empty months', async () => {
        assert.deepEqual(await allPages(paged.data, { limit: '7' }), paged.expected);
        assert.deepEqual(await allPages(paged.data, { limit: '50' }), paged.expected);
    });

    it('keeps to the date range and the search across pages', async () => {
        const fabrikam = await allPages(paged.data, { limit: '9', q: 'fabrikam', from: '2026-11-01', to: '2026-11-29' });
        assert.ok(fabrikam.length > 0);
        assert.ok(fabrikam.every((key) => key >= '2026-11-01' && key < '2026-11-30'));
        const all = await allPages(paged.data, { limit: '200', from: '2026-11-01', to: '2026-11-29' });
        assert.deepEqual(
            all,
            paged.expected.filter((key) => key >= '2026-11-01' && key < '2026-11-30'),
        );
    });

    it('reads the first page from the newest minutes only, not the whole table', async () => {
        const page = await paged.data.page(parseLeadQuery(new URLSearchParams({ limit: '10' }), new Date(now)));
        assert.deepEqual(
            page.items.map((item) => item.position),
            paged.expected.slice(0, 10),
        );
        assert.ok(page.scanned <= 61, `read ${page.scanned} rows for a page of 10`);
    });
});

/* A burst: 5,100 leads within a minute, more than a window reads at once and more than a search reads for one page. */
describe('console paging through a burst of leads', () => {
    let paged: PagedTable;

    before(async () => {
        paged = await tableWith(
            'BurstLeads',
            Array.from({ length: 5_100 }, (_, i) => now - i * 10),
        );
    });

    after(async () => {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning it
        await paged?.azurite.stop();
    });

    it('lists every lead once, newest first, through windows too crowded to read whole', async () => {
        const seen = await allPages(paged.data, { limit: '200' });
        assert.equal(seen.length, paged.expected.length);
        assert.deepEqual(seen, paged.expected);
    });

    it('stops a search that finds nothing after 5,000 rows, and goes on from there on the next page', async () => {
        const first = await paged.data.page(parseLeadQuery(new URLSearchParams({ q: 'no such company' }), new Date(now)));
        assert.deepEqual(first.items, []);
        assert.equal(first.scanned, 5_000);
        assert.equal(first.next, paged.expected[4_999]);
        const second = await paged.data.page(parseLeadQuery(new URLSearchParams({ q: 'no such company', before: first.next ?? '' }), new Date(now)));
        assert.equal(second.scanned, 100);
        assert.equal(second.next, undefined);
    });
});
