import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { benchLead, fillLeads, leadRows } from '../../bench/consoleList';
import { readSettings } from '../../src/config/settings';
import { ConsoleData } from '../../src/console/consoleData';
import { parseLeadQuery } from '../../src/console/leadQuery';
import { renderListPage } from '../../src/console/render';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { AttentionIndex } from '../../src/deliver/attentionIndex';
import { LeadsTable, rowKeysFor } from '../../src/store/leadsTable';
import type { Attention } from '../../src/console/attention';
import type { Health } from '../../src/console/health';

/*
 * The console at 100,000 leads: rows written straight to the leads table in batch transactions
 * over ten days, a few failing deliveries written to the attention index as the delivery path
 * writes them (old ones among them), and one old lead stored as the table destination stores it.
 */
describe('the console at 100,000 leads', () => {
    const count = 100_000;
    let azurite: Azurite;
    let data: ConsoleData;
    const end = Date.now() - 1000;
    // Spread over the ten days, the oldest a few rows in: far past any page's 5,000-row bound.
    const failing = [3, 20_000, 50_000, 77_777, 99_990];
    const old = benchLead(5, count, end);
    const oldAddress = 'Grace.Hopper@Navy.example';

    before(async () => {
        azurite = await startAzurite();
        const settings = readSettings({ AzureWebJobsStorage: azurite.connectionString, LEAD_DESTINATIONS: 'table,webhook', WEBHOOK_URL: 'https://hooks.contoso.example/leads' });
        await fillLeads(TableClient.fromConnectionString(azurite.connectionString, settings.LEADS_TABLE, { allowInsecureConnection: true }), leadRows(count, end));
        const index = await AttentionIndex.connect(settings.storage, settings.DELIVERIES_TABLE);
        for (const i of failing) await index.mark(benchLead(i, count, end), 'webhook', { state: 'retrying', failed: true, reason: 'The webhook answered 503.', nextTryAt: new Date(Date.now() + 60_000) });
        const leads = await LeadsTable.connect(settings.storage, settings.LEADS_TABLE);
        const oldLead = { ...old, id: 'f'.repeat(32), customer: { ...old.customer, email: oldAddress } };
        await leads.insert(oldLead, rowKeysFor(oldLead.id, new Date(oldLead.receivedAt)));
        data = await ConsoleData.connect(settings);
    });

    after(async () => {
        await azurite.stop();
    });

    it('lists every failing delivery, the oldest too, newest first', async () => {
        const page = await data.page(parseLeadQuery(new URLSearchParams({ state: 'failed' })));
        const expected = failing.map((i) => benchLead(i, count, end).id).reverse();
        assert.deepEqual(
            page.items.map((item) => item.id),
            expected,
        );
        assert.equal(page.next, undefined, 'the whole index was read: no page after');
        assert.ok(page.items.every((item) => item.company !== '' && item.offer && item.destinations.some((d) => d.destination === 'webhook' && d.nextTryAt)));
    });

    it('finds an old lead by its whole e-mail address', async () => {
        const page = await data.page(parseLeadQuery(new URLSearchParams({ q: 'grace.hopper@navy.example' })));
        assert.deepEqual(
            page.items.map((item) => item.id),
            ['f'.repeat(32)],
        );
    });

    it('says how far a search looked, never "no match", when it stopped before the end of the range', async () => {
        const query = parseLeadQuery(new URLSearchParams({ q: 'no such company' }));
        const page = await data.page(query);
        assert.deepEqual(page.items, []);
        assert.ok(page.lookedBackTo && page.next, 'it says where it stopped and where to go on');
        const attention: Attention = { poisoned: [], poisonCount: 0, failing: [], setAside: [] };
        const health: Health = { leadsToday: 0, leadsThisWeek: 0, failing: {}, poisonCount: 0, checks: [] };
        const html = renderListPage({ query, page, health, attention });
        assert.doesNotMatch(html, /No lead matches/);
        assert.match(html, /Looked through 5000 leads back to <time[^>]*>[^<]*<\/time>; none matched yet\. <a href="\/api\/console\?q=no\+such\+company&(amp;)?before=/);
        const further = await data.page(parseLeadQuery(new URLSearchParams({ q: 'no such company', before: page.next ?? '' })));
        assert.ok((further.lookedBackTo ?? '') < (page.lookedBackTo ?? ''), 'going on looks further back');
    });
});
