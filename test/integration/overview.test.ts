import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TransactionAction } from '@azure/data-tables';
import type { Browser, Page } from 'playwright-core';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { parseLead } from '../../src/intake/parseLead';
import { leadEntity, LeadsTable, rowKeysFor } from '../../src/store/leadsTable';
import { launchBrowser } from '../helpers/browser';
import { freePort, postLead, startApp, type RunningApp } from '../helpers/processes';
import { documentedSample } from '../helpers/samples';

const dayMs = 86_400_000;

/*
 * The overview in Debian's Chromium, on the app run by the local host over a real Azurite: three
 * leads posted today (one a marketplace test lead) and 40 written straight to the table over the
 * last 60 days, at a desktop's width and a phone's.
 */
describe('the overview: leads per day, by source, by action and by offer', () => {
    let azurite: Azurite;
    let app: RunningApp;
    let browser: Browser;
    const cspViolations: string[] = [];
    const now = Date.now();
    const older = Array.from({ length: 40 }, (_, i) => now - (2 + (i % 58)) * dayMs);

    before(async () => {
        azurite = await startAzurite();
        app = await startApp({ env: { AzureWebJobsStorage: azurite.connectionString, LEAD_DESTINATIONS: 'table' }, port: await freePort() });
        const lead = (company: string, source: string, offer: string, lastName = 'Lovelace') => ({
            UserDetails: { FirstName: 'Ada', LastName: lastName, Email: `ada@${company.toLowerCase()}.example`, Company: company },
            LeadSource: `${source}|contoso.${offer.toLowerCase().replace(/\s+/g, '-')}`,
            OfferTitle: offer,
        });
        await postLead(app.url, lead('Fabrikam', 'AzureMarketplace-INS', 'Contoso Analytics'));
        await postLead(app.url, lead('Northwind', 'AppSource-PLT', 'Contoso <CRM>'));
        await postLead(app.url, lead('Tester', 'AzurePortal-Create', 'Contoso Analytics', 'MSFT_TEST'));
        const table = await LeadsTable.connect(azurite.connectionString, 'MarketplaceLeads');
        await table.ensureTable();
        const template = parseLead(JSON.stringify(documentedSample()), 'json', { receivedAt: new Date(now), receiptId: 'r' });
        for (const [i, at] of older.entries()) {
            const id = (i + 1).toString(16).padStart(32, '0');
            const row = leadEntity({ ...template, id, source: 'AppSource', action: 'StartTestDrive', offerTitle: 'Contoso Analytics' }, rowKeysFor(id, new Date(at)));
            await table.client.submitTransaction([['create', { ...row }] satisfies TransactionAction]);
        }
        // The table destination stores the posted leads a moment after they are accepted.
        for (let tries = 0; tries < 100; tries++) {
            const summary = await (await fetch(`${app.url}/api/console/leads?limit=200`)).json();
            if ((summary as { items: unknown[] }).items.length >= 43) break;
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
        browser = await launchBrowser();
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await browser?.close();
        await app?.stop();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    async function open(path: string, width: number): Promise<Page> {
        const page = await browser.newPage({ viewport: { width, height: 900 } });
        page.on('console', (message) => {
            if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
        });
        const response = await page.goto(`${app.url}${path}`);
        assert.equal(response?.status(), 200);
        return page;
    }

    /** The figures table behind a chart: each day's row, as its cells' text. */
    async function figureRows(page: Page, chart: string): Promise<string[][]> {
        return page.evaluate<string[][]>(`[...document.querySelectorAll('#${chart} table.figures tbody tr')].map((row) => [...row.children].map((cell) => cell.textContent))`);
    }

    for (const width of [1366, 390]) {
        it(`charts 30 and 90 days by source and action, with the figures behind them, at ${width} px`, async () => {
            const page = await open('/api/console', width);
            await page.getByRole('link', { name: 'Overview' }).click();
            await page.waitForURL(/\/api\/console\/view\/overview$/);
            const within30 = older.filter((at) => at >= now - 29 * dayMs).length;
            assert.equal(await page.locator('.summary').getAttribute('data-total'), String(3 + within30));
            assert.match(await page.locator('.summary').innerText(), /1 of them test leads/);
            const bySource = page.locator('#by-source svg');
            assert.equal(await bySource.getAttribute('role'), 'img');
            assert.match((await page.locator('#by-source-title').textContent()) ?? '', /Leads per day by source, last 30 days/);
            const today = new Date(now).toISOString().slice(0, 10);
            const sourceRows = await figureRows(page, 'by-source');
            assert.equal(sourceRows.length, 30);
            // AppSource, Azure Marketplace, Azure portal, Other, all.
            assert.deepEqual(sourceRows[29], [today, '1', '1', '1', '0', '3']);
            assert.deepEqual(
                (await figureRows(page, 'by-action'))[29],
                // Contact me, Get it now, Test drive, Purchased, Do not contact, Other, all.
                [today, '1', '1', '0', '1', '0', '0', '3'],
            );
            assert.equal(await page.locator('#by-source rect').count(), new Set([today, ...older.filter((at) => at >= now - 29 * dayMs).map((at) => new Date(at).toISOString().slice(0, 10))]).size + 2);
            assert.match(await page.locator('table.offers').innerText(), /Contoso Analytics\s+\d+[^]*Contoso <CRM>\s+1\s/);
            const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
            assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
            const svgBox = await bySource.boundingBox();
            assert.ok(svgBox && svgBox.x >= 0 && svgBox.x + svgBox.width <= width, 'the chart fits the screen');

            await page.getByRole('link', { name: '90 days' }).click();
            await page.waitForURL(/days=90/);
            assert.equal(await page.locator('.summary').getAttribute('data-total'), String(3 + older.length));
            assert.equal((await figureRows(page, 'by-action')).length, 90);
            await page.getByRole('link', { name: 'Hide test leads' }).click();
            await page.waitForURL(/days=90&hideTest=true/);
            assert.equal(await page.locator('.summary').getAttribute('data-total'), String(2 + older.length));
            assert.deepEqual((await figureRows(page, 'by-source'))[89], [today, '1', '1', '0', '0', '2']);
            assert.equal(Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')), 0);
            await page.close();
        });
    }

    it('shows how many leads the range holds on the list, and the health tiles count from the same figures', async () => {
        const page = await open('/api/console', 1366);
        assert.equal(await page.locator('.range-count').getAttribute('data-count'), String(3 + older.length));
        assert.equal(await page.locator('[data-health="today"] dd').innerText(), '3');
        assert.equal(await page.locator('[data-health="week"] dd').innerText(), String(3 + older.filter((at) => at >= Date.parse(new Date(now - 6 * dayMs).toISOString().slice(0, 10))).length));
        await page.goto(`${app.url}/api/console?hideTest=true`);
        assert.equal(await page.locator('.range-count').getAttribute('data-count'), String(2 + older.length));
        assert.match(await page.locator('.range-count').innerText(), /test leads left out/);
        await page.close();
    });

    it('answers a bad parameter with a 400 naming it, and breaks no Content-Security-Policy', async () => {
        const response = await fetch(`${app.url}/api/console/view/overview?days=7`);
        assert.equal(response.status, 400);
        assert.match(await response.text(), /days is &#34;7&#34;: use 30 or 90/);
        assert.deepEqual(cspViolations, []);
    });
});
