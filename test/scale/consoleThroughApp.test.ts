import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import type { LeadPage } from '../../src/console/consoleData';
import { launchBrowser } from '../helpers/browser';
import { json, startTestServer, type TestServer } from '../helpers/httpServer';
import { freePort, postLead, startApp, type RunningApp } from '../helpers/processes';
import { eventually } from '../helpers/queues';

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const live = 5_000;
const imported = 300;
/** Every 1,000th live lead goes to an offer routed to the webhook, which refuses it: five leads in the poison queue. */
const refusedEvery = 1_000;
const sources = ['AzureMarketplace', 'AppSource', 'AzurePortal'];
const actions = ['INS', 'PLT', 'StartTestDrive', 'Create'];

function liveLead(i: number): Record<string, unknown> {
    const refused = i % refusedEvery === 0;
    return {
        UserDetails: { FirstName: 'Ada', LastName: `Scale${i}`, Email: `ada${i}@scale${i % 97}.example`, Company: `Scale Company ${i}`, Country: 'US' },
        LeadSource: `${sources[i % sources.length] ?? ''}-${actions[i % actions.length] ?? ''}|contoso.${refused ? 'refused-offer' : `offer-${i % 7}`}`,
        OfferTitle: refused ? 'Refused Offer' : `Contoso Offer ${i % 7}`,
    };
}

/** Partner Center's analytics download: leads created months ago, which must take their place in time. */
function importedCsv(now: number): string {
    const header = 'Referral ID,Creation Date,Customer Country,Customer Name,Lead Source,Call to action,Offer ID,Offer name';
    const rows = Array.from({ length: imported }, (_, i) => {
        const created = new Date(now - (40 + (i % 120)) * 86_400_000).toISOString();
        return `ref-${i},${created},DE,Imported Company ${i},Azure Marketplace,Contact me,contoso.imported,Imported Offer`;
    });
    return `${header}\r\n${rows.join('\r\n')}\r\n`;
}

/*
 * The console as an operator meets it after a busy day: 5,000 leads posted through the app (the
 * intake, the queues, the table), five of them refused by a webhook, and 300 older ones imported
 * from Partner Center's download; read in Chromium at 1366 px and 390 px.
 */
describe('the console after 5,000 leads through the app', () => {
    let azurite: Azurite;
    let webhook: TestServer;
    let app: RunningApp;
    let browser: Browser;
    const ids: string[] = [];

    before(async () => {
        azurite = await startAzurite();
        webhook = await startTestServer((_request, res) => json(res, 400, { error: 'unknown field' }));
        app = await startApp({
            env: {
                AzureWebJobsStorage: azurite.connectionString,
                LEAD_DESTINATIONS: 'table',
                LEAD_ROUTES: JSON.stringify([{ offer: 'contoso.refused-offer', destinations: ['table', 'webhook'] }]),
                WEBHOOK_URL: `${webhook.url}/hook`,
            },
            port: await freePort(),
        });
        let next = 0;
        await Promise.all(
            Array.from({ length: 16 }, async () => {
                for (let i = next++; i < live; i = next++) ids[i] = await postLead(app.url, liveLead(i));
            }),
        );
        const form = new FormData();
        form.set('file', new Blob([importedCsv(Date.now())], { type: 'text/csv' }), 'analytics.csv');
        const summary = await fetch(`${app.url}/api/console/import`, { method: 'POST', body: form, headers: { accept: 'application/json' } });
        assert.equal(summary.status, 200, await summary.clone().text());
        // Every two seconds, not the helper's tenth of a second: each look counts today's rows, and Azurite has one thread for that and the delivery.
        for (const deadline = Date.now() + 300_000; ; await new Promise((resolve) => setTimeout(resolve, 2000))) {
            const count = Number(/data-count="(\d+)"/.exec(await (await fetch(`${app.url}/api/console`)).text())?.[1] ?? 0);
            if (count >= live + imported) break;
            if (Date.now() > deadline) throw new Error(`After 300 s the table holds ${count} of ${live + imported} leads.`);
        }
        browser = await launchBrowser();
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await browser?.close();
        await app?.stop();
        await webhook?.close();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    async function open(path: string, width: number): Promise<Page> {
        const page = await browser.newPage({ viewport: { width, height: 900 }, bypassCSP: true });
        const response = await page.goto(`${app.url}${path}`);
        assert.equal(response?.status(), 200, path);
        return page;
    }

    async function listed(query: string): Promise<LeadPage> {
        return (await (await fetch(`${app.url}/api/console/leads?${query}`)).json()) as LeadPage;
    }

    it('lists the live leads first, newest first, and counts every lead of the range', async () => {
        const first = await listed('');
        // The table keys a lead by when it stored it, and 16 posts at a time are stored in any order: one of the last posted heads the list.
        assert.ok(ids.slice(-200).includes(first.items[0]?.id ?? ''), 'a lead posted last heads the list');
        const positions = first.items.map((item) => item.position);
        assert.deepEqual(positions, [...positions].sort().reverse(), 'newest first');
        assert.ok(
            first.items.every((item) => !item.company.startsWith('Imported')),
            'imported leads never push live ones back',
        );
        const page = await open('/api/console', 1366);
        assert.match(await page.locator('.range-count').innerText(), new RegExp(`hold ${live + imported} leads`));
        await page.close();
    });

    it('shows every refused lead in the poisoned and failed views, and agrees with the tiles', async () => {
        const refused = ids.filter((_, i) => i % refusedEvery === 0);
        await eventually(async () => ((await listed('state=poisoned')).items.length === refused.length ? true : undefined), 120_000, 'the refused leads in the poison queue');
        assert.deepEqual(new Set((await listed('state=poisoned')).items.map((item) => item.id)), new Set(refused));
        assert.deepEqual(new Set((await listed('state=failed')).items.map((item) => item.id)), new Set(refused));
        const health = (await (await fetch(`${app.url}/api/console/health`)).json()) as { poisonCount: number; leadsToday: number };
        assert.equal(health.poisonCount, refused.length);
        assert.equal(health.leadsToday, live, 'imported leads are no sign that leads arrive');
        assert.equal(webhook.requests.length, refused.length, 'each refused lead was posted once (a 400 is permanent)');
    });

    it('finds the first lead by its whole e-mail address, 5,000 leads back', async () => {
        const found = await listed(`q=${encodeURIComponent('ADA0@scale0.example')}`);
        assert.deepEqual(
            found.items.map((item) => item.id),
            [ids[0]],
        );
    });

    it('puts imported leads in their place in time', async () => {
        const old = await listed(`from=${new Date(Date.now() - 200 * 86_400_000).toISOString().slice(0, 10)}&to=${new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10)}`);
        assert.ok(old.items.length > 0 && old.items.every((item) => item.company.startsWith('Imported')), 'the months-old range holds the imported leads');
    });

    it('fits a 390 px phone and passes axe-core on the list, a failure view, a lead and the overview, at both widths', async () => {
        for (const width of [1366, 390]) {
            for (const path of ['/api/console', '/api/console?state=poisoned', `/api/console/view/${ids[0] ?? ''}`, '/api/console/view/overview?days=90']) {
                const page = await open(path, width);
                const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
                assert.ok(overflow <= 0, `${path} is ${overflow} px wider than ${width} px`);
                await page.addScriptTag({ content: axeSource });
                const violations = await page.evaluate<string[]>("axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => v.id))");
                assert.deepEqual(violations, [], `${path} at ${width} px`);
                await page.close();
            }
        }
    });
});
