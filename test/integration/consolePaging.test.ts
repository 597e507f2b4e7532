import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TransactionAction } from '@azure/data-tables';
import { readSettings } from '../../src/config/settings';
import { ConsoleData } from '../../src/console/consoleData';
import { parseLeadQuery } from '../../src/console/leadQuery';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { parseLead } from '../../src/intake/parseLead';
import { leadEntity, LeadsTable, rowKeysFor } from '../../src/store/leadsTable';
import { documentedSample } from '../helpers/samples';

const dayMs = 86_400_000;

/*
 * Newest first by key ranges: rows spread over weeks, some minutes dense and some days empty, read
 * page by page, must come back exactly as a full sort of the table would list them.
 */
describe('console paging over the leads table', () => {
    let azurite: Azurite;
    let data: ConsoleData;
    const now = Date.parse('2026-11-30T12:00:00.000Z');
    const expected: string[] = [];

    before(async () => {
        azurite = await startAzurite();
        const s = readSettings({ AzureWebJobsStorage: azurite.connectionString, LEADS_TABLE: 'PagingLeads' });
        const table = await LeadsTable.connect(s.storage, s.LEADS_TABLE);
        await table.ensureTable();
        const template = parseLead(JSON.stringify(documentedSample()), 'json', { receivedAt: new Date(now), receiptId: 'r' });
        // A burst of 120 leads within two minutes, one a day for 20 days, one 200 days back, and none in between.
        const times = [...Array.from({ length: 120 }, (_, i) => now - i * 1000), ...Array.from({ length: 20 }, (_, i) => now - (i + 2) * dayMs - 3_600_000), now - 200 * dayMs];
        const rows = times.map((t, i) => {
            const id = i.toString(16).padStart(32, '0');
            const keys = rowKeysFor(id, new Date(t));
            expected.push(keys.rowKey);
            const company = i % 3 === 0 ? 'Fabrikam' : 'Contoso';
            return { ...leadEntity({ ...template, id, customer: { ...template.customer, company } }, keys), CreatedTime: new Date(t).toISOString() };
        });
        for (let at = 0; at < rows.length; at += 20) await Promise.all(rows.slice(at, at + 20).map((row) => table.client.createEntity(row)));
        expected.sort().reverse();
        data = await ConsoleData.connect(s);
    });

    after(async () => {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning it
        await azurite?.stop();
    });

    async function allPages(params: Record<string, string>): Promise<string[]> {
        const seen: string[] = [];
        let before: string | undefined;
        for (let pages = 0; pages < 100; pages++) {
            const query = parseLeadQuery(new URLSearchParams({ ...params, ...(before ? { before } : {}) }), new Date(now));
            const page = await data.page(query);
            seen.push(...page.items.map((item) => item.position));
            if (!page.next) return seen;
            before = page.next;
        }
        throw new Error('More than 100 pages.');
    }

    it('lists every lead of the range once, newest first, across dense minutes, days and empty months', async () => {
        assert.deepEqual(await allPages({ limit: '7' }), expected);
        assert.deepEqual(await allPages({ limit: '50' }), expected);
    });

    it('keeps to the date range and the search across pages', async () => {
        const fabrikam = await allPages({ limit: '9', q: 'fabrikam', from: '2026-11-01', to: '2026-11-29' });
        assert.ok(fabrikam.length > 0);
        assert.ok(fabrikam.every((key) => key >= '2026-11-01' && key < '2026-11-30'));
        const all = await allPages({ limit: '200', from: '2026-11-01', to: '2026-11-29' });
        assert.deepEqual(
            all,
            expected.filter((key) => key >= '2026-11-01' && key < '2026-11-30'),
        );
    });

    it('reads the first page from the newest minutes only, not the whole table', async () => {
        const page = await data.page(parseLeadQuery(new URLSearchParams({ limit: '10' }), new Date(now)));
        assert.deepEqual(
            page.items.map((item) => item.position),
            expected.slice(0, 10),
        );
        assert.ok(page.scanned <= 61, `read ${page.scanned} rows for a page of 10`);
    });
});

/* A burst: 5,100 leads within a minute, more than a window reads at once and more than a search reads for one page. */
describe('console paging through a burst of leads', () => {
    let azurite: Azurite;
    let data: ConsoleData;
    const now = Date.parse('2026-11-30T12:00:00.000Z');
    const expected: string[] = [];

    before(async () => {
        azurite = await startAzurite();
        const s = readSettings({ AzureWebJobsStorage: azurite.connectionString, LEADS_TABLE: 'BurstLeads' });
        const table = await LeadsTable.connect(s.storage, s.LEADS_TABLE);
        await table.ensureTable();
        const template = parseLead(JSON.stringify(documentedSample()), 'json', { receivedAt: new Date(now), receiptId: 'r' });
        const rows = Array.from({ length: 5_100 }, (_, i) => {
            const id = (i + 1).toString(16).padStart(32, '0');
            const keys = rowKeysFor(id, new Date(now - i * 10));
            expected.push(keys.rowKey);
            return leadEntity({ ...template, id }, keys);
        });
        for (let at = 0; at < rows.length; at += 100) await table.client.submitTransaction(rows.slice(at, at + 100).map((row): TransactionAction => ['create', { ...row }]));
        expected.sort().reverse();
        data = await ConsoleData.connect(s);
    });

    after(async () => {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning it
        await azurite?.stop();
    });

    it('lists every lead once, newest first, through windows too crowded to read whole', async () => {
        const seen: string[] = [];
        let before: string | undefined;
        for (let pages = 0; pages < 40; pages++) {
            const page = await data.page(parseLeadQuery(new URLSearchParams({ limit: '200', ...(before ? { before } : {}) }), new Date(now)));
            seen.push(...page.items.map((item) => item.position));
            if (!page.next) break;
            before = page.next;
        }
        assert.equal(seen.length, expected.length);
        assert.deepEqual(seen, expected);
    });

    it('stops a search that finds nothing after 5,000 rows, and goes on from there on the next page', async () => {
        const first = await data.page(parseLeadQuery(new URLSearchParams({ q: 'no such company' }), new Date(now)));
        assert.deepEqual(first.items, []);
        assert.equal(first.scanned, 5_000);
        assert.equal(first.next, expected[4_999]);
        const second = await data.page(parseLeadQuery(new URLSearchParams({ q: 'no such company', before: first.next ?? '' }), new Date(now)));
        assert.equal(second.scanned, 100);
        assert.equal(second.next, undefined);
    });
});
