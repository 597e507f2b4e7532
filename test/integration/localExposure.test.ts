import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { TableClient } from '@azure/data-tables';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { parseLead } from '../../src/intake/parseLead';
import { launchBrowser } from '../helpers/browser';
import { startTestServer, type TestServer } from '../helpers/httpServer';
import { freePort, startApp, tempDir, type RunningApp } from '../helpers/processes';
import { drainQueue, eventually } from '../helpers/queues';
import { documentedSample } from '../helpers/samples';

/**
 * A second machine on the LAN: a network namespace joined to this one by a veth pair, made for the
 * test and removed after it. Only these two addresses are ever sent to.
 */
interface Lan {
    namespace: string;
    appAddress: string;
    run(script: string): { status: number | null; stdout: string; stderr: string };
    remove(): void;
}

function makeLan(): Lan | string {
    const id = String(process.pid % 100000);
    const namespace = `leads-${id}`;
    const outside = `vla${id}`;
    const inside = `vlb${id}`;
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const remove = () => {
        spawnSync('ip', ['link', 'del', outside]);
        spawnSync('ip', ['netns', 'del', namespace]);
    };
    try {
        remove();
        ip('netns', 'add', namespace);
        ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
        ip('link', 'set', inside, 'netns', namespace);
        ip('addr', 'add', '10.213.0.1/30', 'dev', outside);
        ip('link', 'set', outside, 'up');
        ip('-n', namespace, 'addr', 'add', '10.213.0.2/30', 'dev', inside);
        ip('-n', namespace, 'link', 'set', inside, 'up');
        ip('-n', namespace, 'link', 'set', 'lo', 'up');
    } catch (error) {
        remove();
        return `A second network namespace could not be made (root and iproute2 are needed): ${error instanceof Error ? error.message : String(error)}`;
    }
    return {
        namespace,
        appAddress: '10.213.0.1',
        run: (script) => {
            const result = spawnSync('ip', ['netns', 'exec', namespace, process.execPath, '-e', script], { encoding: 'utf8', timeout: 20_000 });
            return { status: result.status, stdout: result.stdout, stderr: result.stderr };
        },
        remove,
    };
}

/** A script for the other machine: requests with a chosen Host header, printed as JSON lines of status (or the connection error). */
function requestsScript(port: number, requests: { method: string; path: string; host: string; body?: string; headers?: Record<string, string> }[]): string {
    return `
const http = require('node:http');
const requests = ${JSON.stringify(requests)};
(async () => {
    for (const r of requests) {
        const status = await new Promise((resolve) => {
            const req = http.request({ host: '10.213.0.1', port: ${port}, method: r.method, path: r.path, headers: { host: r.host, ...(r.headers || {}) }, timeout: 5000 }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
            req.on('error', (e) => resolve(e.code || 'error'));
            req.on('timeout', () => req.destroy(new Error('timeout')));
            req.end(r.body);
        });
        console.log(JSON.stringify({ path: r.path, status }));
    }
})();`;
}

describe('a local app on a shared network, and other web pages in the browser', () => {
    const lan = makeLan();
    const skip = typeof lan === 'string' ? (process.env.CI === 'true' ? false : lan) : false;
    let azurite: Azurite;
    let closed: RunningApp;
    let open: RunningApp;
    let openPort = 0;
    let closedPort = 0;
    let browser: Browser | undefined;
    let page: TestServer | undefined;

    before(async () => {
        if (typeof lan === 'string') {
            if (process.env.CI === 'true') throw new Error(lan);
            return;
        }
        azurite = await startAzurite();
        const env = { AzureWebJobsStorage: azurite.connectionString, LEADS_QUEUE: 'exposure', AzureWebJobs__deliverLead__Disabled: 'true' };
        closedPort = await freePort();
        closed = await startApp({ env, port: closedPort });
        openPort = await freePort();
        open = await startApp({ env, port: openPort, args: ['--settings', join(tempDir('settings'), 'local.settings.json'), '--listen', '0.0.0.0'] });
    });

    after(async () => {
        await browser?.close();
        await page?.close();
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- before() may have stopped before starting them
        for (const app of [closed, open]) await app?.stop();
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as above
        await azurite?.stop();
        if (typeof lan !== 'string') lan.remove();
    });

    it('listens on this machine only by default: another machine cannot even connect', { skip }, () => {
        assert.ok(typeof lan !== 'string');
        const result = lan.run(requestsScript(closedPort, [{ method: 'GET', path: '/api/console/leads', host: 'localhost' }]));
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(JSON.parse(result.stdout.trim()), { path: '/api/console/leads', status: 'ECONNREFUSED' });
        assert.match(closed.output(), /Listening on this machine only \(127\.0\.0\.1 and ::1/);
    });

    it('opened with --listen 0.0.0.0, takes leads from the network, but its console and admin API answer only this machine, whatever Host says', { skip }, async () => {
        assert.ok(typeof lan !== 'string');
        const lead = JSON.stringify(documentedSample());
        const result = lan.run(
            requestsScript(openPort, [
                { method: 'GET', path: '/api/console/leads', host: 'localhost' },
                { method: 'GET', path: '/api/console/export.csv', host: '127.0.0.1' },
                { method: 'POST', path: '/api/console/import', host: 'localhost', body: 'Email\na@contoso.com\n', headers: { 'content-type': 'text/csv' } },
                { method: 'POST', path: '/admin/functions/notifyContacts', host: 'localhost', body: '{"input":""}', headers: { 'content-type': 'application/json' } },
                { method: 'POST', path: '/api/leads', host: `10.213.0.1:${openPort}`, body: lead, headers: { 'content-type': 'application/json' } },
            ]),
        );
        assert.equal(result.status, 0, result.stderr);
        const statuses = result.stdout
            .trim()
            .split('\n')
            .map((line) => (JSON.parse(line) as { status: number }).status);
        assert.deepEqual(statuses, [404, 404, 404, 403, 202]);
        // From this machine the console answers.
        assert.equal((await fetch(`http://localhost:${openPort}/api/console/leads`)).status, 200);
    });

    it('refuses other web pages: a form posting a lead and a script running functions, in Chromium', { skip }, async () => {
        await drainQueue(azurite.connectionString, 'exposure');
        const target = `http://localhost:${closedPort}`;
        page = await startTestServer((_request, res) => {
            res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html>
<form id="f" method="post" action="${target}/api/leads" enctype="application/x-www-form-urlencoded">
<input name="first_name" value="Mallory"><input name="email" value="mallory@evil.example"><input name="lead_source" value="AzureMarketplace-eviloffer">
</form>
<script>
fetch('${target}/admin/functions/sendAlerts', { method: 'POST', mode: 'no-cors', body: '{"input":""}' }).finally(() => document.getElementById('f').submit());
</script>`);
        });
        browser = await launchBrowser();
        const tab = await browser.newPage();
        const answer = tab.waitForResponse((response) => response.url() === `${target}/api/leads`);
        await tab.goto(page.url);
        const response = await answer;
        assert.equal(response.status(), 403);
        assert.match(await response.text(), /came from a web page/);
        assert.deepEqual(await drainQueue(azurite.connectionString, 'exposure'), [], 'no lead was stored');
        assert.match(closed.output(), /The admin API refused POST \/admin\/functions\/"sendAlerts" with 403: The request came from another site/);
    });

    it("logs a lead's text escaped: a LeadSource cannot write a line of its own into the host log", { skip }, async () => {
        const forged = 'Console request allowed for admin@contoso.com';
        const lead = { ...documentedSample(), LeadSource: `AzureMarketplace\n${forged}\u202e|offer\u200b` };
        const response = await fetch(`http://localhost:${closedPort}/api/leads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(lead) });
        assert.equal(response.status, 202);
        await drainQueue(azurite.connectionString, 'exposure');
        await eventually(() => (closed.output().includes('Accepted lead') ? true : undefined), 5000, 'the intake log line');
        const lines = closed.output().split('\n');
        assert.ok(!lines.some((line) => line.startsWith(forged)), 'no forged line');
        assert.ok(
            lines.some((line) => line.includes('AzureMarketplace\\u{a}Console request allowed for admin@contoso.com\\u{202e}')),
            `the line break is shown escaped:\n${closed.output()}`,
        );
        assert.ok(!/[\u202e\u200b]/.test(closed.output()), 'no bidi or zero-width character reaches the log');
    });

    it('refuses a message handed to a delivery function that the intake could not have made, by any path: it reaches no table', { skip }, async () => {
        const genuine = parseLead(JSON.stringify(documentedSample()), 'json', { receivedAt: new Date(), receiptId: 'crafted' });
        // Another lead's id, and a test lead dressed as a live one.
        const crafted = { ...genuine, id: 'f'.repeat(32), isTest: false, customer: { ...genuine.customer, company: 'MSFT_TEST Contoso' }, delivery: { destination: 'table', ticket: 1, attempt: 1 } };
        const response = await fetch(`http://localhost:${closedPort}/admin/functions/deliverTable`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ input: JSON.stringify(crafted) }),
        });
        assert.equal(response.status, 202);
        await eventually(() => (closed.output().includes('The message is not a lead') ? true : undefined), 10_000, 'the refusal');
        assert.match(closed.output(), /The message is not a lead: \(message\): isTest does not match the MSFT_TEST marker; \(message\): id is not its dedupe key's/);
        const table = TableClient.fromConnectionString(azurite.connectionString, 'MarketplaceLeads', { allowInsecureConnection: true });
        const rows: unknown[] = [];
        try {
            for await (const row of table.listEntities()) rows.push(row);
        } catch (error) {
            // No table at all: nothing was ever written.
            if ((error as { statusCode?: number }).statusCode !== 404) throw error;
        }
        assert.deepEqual(rows, [], 'nothing was written');
    });
});
