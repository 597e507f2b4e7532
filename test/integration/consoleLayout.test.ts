import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { startConsoleScene, type ConsoleScene } from '../helpers/consoleScene';
import { eventually } from '../helpers/queues';

const phone = { width: 390, height: 844 };
const desktop = { width: 1366, height: 900 };
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/*
 * The console as an operator acts on it, with leads in the poison queue: one state per lead, rows
 * that say who and when, Replay on the lead's page, a phone's width, the viewer's time zone, the
 * test leads hidden, a notice shown once, and axe-core's rules, in Debian's Chromium.
 */
describe('the lead console, at a glance and on a phone', () => {
    let scene: ConsoleScene;
    let browser: Browser;
    let ids: Record<string, string>;

    before(async () => {
        scene = await startConsoleScene();
        ids = scene.ids;
        browser = await launchBrowser();
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await browser?.close();
        await scene?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    async function open(path: string, options: BrowserContextOptions = {}): Promise<Page> {
        const context = await browser.newContext({ viewport: desktop, locale: 'en-US', ...options });
        const page = await context.newPage();
        const response = await page.goto(`${scene.app.url}${path}`);
        assert.ok(response && [200, 404].includes(response.status()), `${path} answered ${response?.status()}`);
        return page;
    }

    async function close(page: Page): Promise<void> {
        await page.context().close();
    }

    function row(page: Page, key: string) {
        return page.locator(`table.leads tr[data-lead="${ids[key] ?? ''}"]`);
    }

    /** Every page an operator opens: the list (plain, filtered, hiding test leads), a poisoned lead's page, an uncertain one's, a delivered one's, and a message page. */
    function pages(): string[] {
        return [
            '/api/console',
            '/api/console?state=failed',
            '/api/console?hideTest=true',
            `/api/console/view/${ids.refused ?? ''}`,
            `/api/console/view/${ids.uncertain ?? ''}`,
            `/api/console/view/${ids.woodgrove ?? ''}`,
            '/api/console/view/nothing-here',
            '/api/console/view/overview',
            '/api/console/view/overview?days=90&hideTest=true',
        ];
    }

    it('shows one state per lead, worst first, with each destination in its title', async () => {
        const page = await open('/api/console');
        assert.equal(await row(page, 'fabrikam').locator('.state').count(), 1);
        assert.equal(await row(page, 'fabrikam').locator('.state').innerText(), 'all delivered');
        assert.match((await row(page, 'fabrikam').locator('.state').getAttribute('title')) ?? '', /^table: delivered; webhook: delivered; slack: delivered$/);
        assert.equal(await row(page, 'refused').locator('.state').innerText(), '1 poisoned');
        assert.match((await row(page, 'refused').locator('.state').getAttribute('title')) ?? '', /webhook: failed, in the poison queue \(.*400/);
        assert.equal(await row(page, 'uncertain').locator('.state').innerText(), '1 uncertain');
        await close(page);
    });

    it('names the company, the offer and the time of each lead in the poison queue', async () => {
        const page = await open('/api/console');
        const refused = page.locator(`section.attention tr[data-lead="${ids.refused ?? ''}"]`);
        const text = await refused.innerText();
        assert.match(text, /Alpine Ski House/);
        assert.match(text, /Contoso Analytics/);
        assert.match(text, /webhook/);
        assert.equal(await refused.locator('time').count(), 2, 'when it came and when it was set aside');
        assert.equal(await refused.getByRole('link', { name: 'Alpine Ski House' }).getAttribute('href'), `/api/console/view/${ids.refused ?? ''}`);
        const uncertain = page.locator(`section.attention tr[data-lead="${ids.uncertain ?? ''}"]`);
        assert.match(await uncertain.innerText(), /Coho Winery[^]*Contoso CRM/);
        await close(page);
    });

    it("offers Replay on a poisoned lead's page, and the confirmation on an uncertain one's", async () => {
        const refused = await open(`/api/console/view/${ids.refused ?? ''}`);
        assert.equal(await refused.locator('.lead-state .state').innerText(), '1 poisoned');
        assert.equal(await refused.getByRole('button', { name: `Replay lead ${ids.refused ?? ''}` }).count(), 1);
        await close(refused);
        const uncertain = await open(`/api/console/view/${ids.uncertain ?? ''}`);
        assert.equal(await uncertain.getByRole('button', { name: `Replay (I checked the destination) lead ${ids.uncertain ?? ''}` }).count(), 1);
        await close(uncertain);
        const delivered = await open(`/api/console/view/${ids.fabrikam ?? ''}`);
        assert.equal(await delivered.getByRole('button', { name: /Replay/ }).count(), 0);
        await close(delivered);
    });

    it('fits a 390 px phone on every page, with the state and Replay on screen', async () => {
        for (const path of pages()) {
            const page = await open(path, { viewport: phone });
            const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
            const wide = await page.evaluate(
                `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > ${phone.width}).map((e) => e.tagName + '.' + e.className + ' in ' + e.closest('[class]')?.className).join(' ')`,
            );
            assert.ok(width <= phone.width, `${path} is ${width} px wide on a ${phone.width} px phone: ${String(wide)}`);
            const onScreen = page.locator('table.leads .state, .lead-state .state, section.attention button, .lead-state button');
            for (const box of await Promise.all((await onScreen.all()).map((element) => element.boundingBox()))) {
                assert.ok(box && box.x >= 0 && box.x + box.width <= phone.width, `${path}: a state or Replay is off screen at ${JSON.stringify(box)}`);
            }
            if (path === '/api/console') {
                assert.ok((await onScreen.count()) >= 10, 'the list has its states and Replay buttons');
                const dates = page.locator('table.leads time');
                for (const box of await Promise.all((await dates.all()).map((element) => element.boundingBox()))) assert.ok(box && box.height < 30, `a date takes more than one line: ${JSON.stringify(box)}`);
            }
            await close(page);
        }
    });

    it("writes times in the viewer's time zone and keeps UTC in the title", async () => {
        const page = await open(`/api/console/view/${ids.fabrikam ?? ''}`, { timezoneId: 'America/New_York' });
        const time = page.locator('table.fields time').first();
        const iso = (await time.getAttribute('datetime')) ?? '';
        const newYork = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'America/New_York' }).format(new Date(iso));
        assert.equal(await time.innerText(), newYork);
        assert.equal(await time.getAttribute('title'), `${iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '')} UTC`);
        await close(page);
    });

    it('hides the test leads when asked, in the list and in its export', async () => {
        const page = await open('/api/console');
        assert.equal(await row(page, 'test').count(), 1);
        await page.getByLabel('Hide test leads').check();
        await page.getByRole('button', { name: 'Filter' }).click();
        await page.waitForURL(/hideTest=true/);
        assert.equal(await row(page, 'test').count(), 0);
        assert.equal(await row(page, 'fabrikam').count(), 1);
        assert.ok(await page.getByLabel('Hide test leads').isChecked());
        const exportHref = (await page.getByRole('link', { name: 'Export CSV', exact: true }).getAttribute('href')) ?? '';
        assert.match(exportHref, /hideTest=true/);
        const csv = await (await fetch(`${scene.app.url}${exportHref}`)).text();
        assert.doesNotMatch(csv, new RegExp(ids.test ?? 'no id'));
        assert.match(csv, new RegExp(ids.fabrikam ?? 'no id'));
        const byId = (await (await fetch(`${scene.app.url}/api/console/leads?hideTest=true&q=${ids.test ?? ''}`)).json()) as { items: unknown[] };
        assert.deepEqual(byId.items, [], 'hidden when searched for by its id too');
        const bad = await fetch(`${scene.app.url}/api/console/leads?hideTest=perhaps`);
        assert.equal(bad.status, 400);
        assert.match(((await bad.json()) as { error: string }).error, /hideTest is "perhaps": use true or false/);
        await close(page);
    });

    it('passes axe-core on every page at 1366 px and 390 px', async () => {
        for (const viewport of [desktop, phone]) {
            for (const path of pages()) {
                const page = await open(path, { viewport, bypassCSP: true });
                await page.addScriptTag({ content: axeSource });
                const violations = await page.evaluate<string[]>(
                    "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))",
                );
                assert.deepEqual(violations, [], `${path} at ${viewport.width} px`);
                await close(page);
            }
        }
    });

    it("replays from the lead's page back to it, and shows the notice once", async () => {
        scene.heal();
        const page = await open(`/api/console/view/${ids.uncertain ?? ''}`);
        await page.getByRole('button', { name: /Replay \(I checked the destination\)/ }).click();
        await page.waitForSelector('.notice');
        assert.match(await page.locator('.notice').innerText(), /Sent 1 lead\(s\) from the poison queues/);
        assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, `/api/console/view/${ids.uncertain ?? ''}`, 'back on the page, without the notice in the address');
        await page.reload();
        assert.equal(await page.locator('.notice').count(), 0, 'a reload does not show it again');
        await eventually(async () => ((await page.reload(), await page.locator('.lead-state .state').innerText()) === 'all delivered' ? true : undefined), 20_000, 'the replayed lead to show as delivered');
        await close(page);
    });

    it('shows the notice of a replay from the list once', async () => {
        const page = await open('/api/console');
        await page.locator('section.attention').getByRole('button', { name: 'Replay all' }).click();
        await page.waitForSelector('.notice');
        assert.match(await page.locator('.notice').innerText(), /Sent 1 lead\(s\)/);
        assert.equal(new URL(page.url()).search, '', 'the address no longer asks for the notice');
        await page.reload();
        assert.equal(await page.locator('.notice').count(), 0);
        await close(page);
    });
});
