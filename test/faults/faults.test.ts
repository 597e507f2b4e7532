import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { readHostConfig } from '../../src/host/hostConfig';
import type { Lead } from '../../src/lead/lead';
import { json, startTestServer } from '../helpers/httpServer';
import { leadIdsIn, parseMail } from '../helpers/mime';
import { freePort, postLead, startApp, tempDir, type RunningApp } from '../helpers/processes';
import { eventually } from '../helpers/queues';
import { buildRoot, projectRoot } from '../helpers/samples';
import { startSmtpServer } from '../helpers/smtp';

/*
 * Breaking things on purpose: storage going away under load, the host killed mid-delivery, a
 * destination down or hanging, a mail server refusing. Nothing may be lost, nothing duplicated.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function lead(n: number, company = 'Contoso'): Record<string, unknown> {
    return { UserDetails: { FirstName: 'Fault', LastName: `Test${n}`, Email: `fault${n}@contoso.com`, Company: company }, LeadSource: 'AzureMarketplace-INS|contoso.analytics', OfferTitle: 'Contoso Analytics' };
}

/** LeadId → Occurrences of every row in a leads table. */
async function tableRows(connection: string, table = 'MarketplaceLeads'): Promise<Map<string, number>> {
    const client = TableClient.fromConnectionString(connection, table, { allowInsecureConnection: true });
    const rows = new Map<string, number>();
    try {
        for await (const row of client.listEntities<{ LeadId: string; Occurrences: number }>()) {
            assert.equal(rows.has(row.LeadId), false, `lead ${row.LeadId} has two rows`);
            rows.set(row.LeadId, row.Occurrences);
        }
    } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
    return rows;
}

/** How many of `ids` wait on each queue: where a lead that is not in the table yet is. */
async function whereAre(connection: string, ids: readonly string[]): Promise<string> {
    const wanted = new Set(ids);
    const counts: string[] = [];
    for await (const { name } of QueueServiceClient.fromConnectionString(connection).listQueues()) {
        const { peekedMessageItems } = await new QueueClient(connection, name).peekMessages({ numberOfMessages: 32 });
        const found = peekedMessageItems.filter((m) => wanted.has((JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as { id?: string }).id ?? '')).length;
        if (found > 0) counts.push(`${found} visible on ${name}`);
    }
    return counts.join(', ') || 'none visible on any queue';
}

async function allStored(connection: string, ids: readonly string[], timeoutMs: number): Promise<Map<string, number>> {
    try {
        return await eventually(
            async () => {
                const rows = await tableRows(connection);
                return ids.every((id) => rows.has(id)) ? rows : undefined;
            },
            timeoutMs,
            `all ${ids.length} leads in the table`,
        );
    } catch (error) {
        const rows = await tableRows(connection);
        const missing = ids.filter((id) => !rows.has(id));
        throw new Error(`${(error as Error).message} Missing: ${missing.length} (${await whereAre(connection, missing)}).`, { cause: error });
    }
}

/** The app with the table and a webhook, and no digest: what the delivery faults run, with their own timings. */
function webhookAppEnv(azurite: Azurite, webhookUrl: string, timings: Record<string, string>): Record<string, string> {
    return { AzureWebJobsStorage: azurite.connectionString, LEAD_DESTINATIONS: 'table,webhook', WEBHOOK_URL: webhookUrl, ...timings, 'AzureWebJobs.notifyContacts.Disabled': 'true' };
}

describe('faults', () => {
    it('storage down: every POST answers 202 or 503, and every lead that got a 202 is stored once Azurite is back', async () => {
        const location = tempDir('azurite-faults');
        const ports = { blob: await freePort(), queue: await freePort(), table: await freePort() };
        let azurite: Azurite = await startAzurite({ location, ports });
        const app = await startApp({ env: { AzureWebJobsStorage: azurite.connectionString, 'AzureWebJobs.notifyContacts.Disabled': 'true' }, port: await freePort() });
        try {
            const statuses: number[] = [];
            const accepted: string[] = [];
            let n = 0;
            const poster = (async () => {
                for (let i = 0; i < 4 * 40; i++) {
                    const k = n++;
                    const response = await fetch(`${app.url}/api/leads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(lead(k)) });
                    statuses.push(response.status);
                    const body = (await response.json()) as { id?: string };
                    if (response.status === 202 && body.id) accepted.push(body.id);
                    await sleep(25);
                }
            })();
            await sleep(1000);
            await azurite.stop();
            await sleep(2000);
            azurite = await startAzurite({ location, ports });
            await poster;
            assert.deepEqual(
                [...new Set(statuses)].filter((s) => s !== 202 && s !== 503),
                [],
                'only 202 or 503',
            );
            assert.ok(statuses.includes(503), 'some requests met the outage');
            assert.ok(accepted.length > 0);
            // A lead whose attempt died with the storage holds its delivery lease until it ends (four calls of
            // DELIVERY_TIMEOUT_SECONDS and a margin: 135 s), then the next copy delivers it: wait past that.
            const rows = await allStored(azurite.connectionString, accepted, 240_000);
            for (const id of accepted) assert.equal(rows.get(id), 1);
        } finally {
            await app.stop();
            await azurite.stop();
        }
    });

    it('host killed: SIGKILL in the middle of delivery, restart, and every lead is delivered, none twice', async () => {
        const azurite = await startAzurite();
        const delivered = new Map<string, number>();
        const webhook = await startTestServer(async (request, res) => {
            await sleep(150);
            const { id } = JSON.parse(request.body) as Lead;
            delivered.set(id, (delivered.get(id) ?? 0) + 1);
            json(res, 200, { ok: true });
        });
        const env = webhookAppEnv(azurite, webhook.url, { DELIVERY_TIMEOUT_SECONDS: '2', DELIVERY_RETRY_SECONDS: '1' });
        const port = await freePort();
        let app: RunningApp = await startApp({ env, port });
        try {
            const ids = await Promise.all(Array.from({ length: 60 }, (_, i) => postLead(app.url, lead(1000 + i))));
            await eventually(() => (delivered.size >= 10 ? true : undefined), 30_000, 'deliveries to start');
            app.child.kill('SIGKILL');
            await app.stop();
            const atKill = delivered.size;
            app = await startApp({ env, port });
            const rows = await allStored(azurite.connectionString, ids, 150_000);
            await eventually(() => (ids.every((id) => delivered.has(id)) ? true : undefined), 150_000, 'every lead at the webhook');
            for (const id of ids) assert.equal(rows.get(id), 1, 'one row, counted once');
            const repeats = [...delivered.values()].filter((count) => count > 1).length;
            // A lead whose webhook invocation was under way at the kill (its call in flight, or answered but
            // not yet recorded) may arrive again, with the same Idempotency-Key. The host runs at most
            // batchSize + newBatchThreshold invocations of one queue at once (host.json), so no more can repeat.
            const { queues } = readHostConfig(projectRoot);
            assert.ok(repeats <= queues.batchSize + queues.newBatchThreshold, `${repeats} leads reached the webhook twice`);
            process.stdout.write(`# host killed after ${atKill} webhook deliveries; ${repeats} in-flight call(s) repeated with the same Idempotency-Key\n`);
        } finally {
            await app.stop();
            await webhook.close();
            await azurite.stop();
        }
    });

    it('destination down: a webhook answering 503, then hanging, gets every lead once it recovers, each once', async () => {
        const azurite = await startAzurite();
        let mode: 'down' | 'hang' | 'up' = 'down';
        const delivered = new Map<string, number>();
        const webhook = await startTestServer((request, res) => {
            if (mode === 'down') return json(res, 503, { error: 'maintenance' });
            if (mode === 'hang') return setTimeout(() => res.destroy(), 60_000).unref();
            const { id } = JSON.parse(request.body) as Lead;
            delivered.set(id, (delivered.get(id) ?? 0) + 1);
            json(res, 200, { ok: true });
        });
        const app = await startApp({
            env: webhookAppEnv(azurite, webhook.url, { DELIVERY_TIMEOUT_SECONDS: '1', DELIVERY_RETRY_SECONDS: '1' }),
            port: await freePort(),
        });
        try {
            const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => postLead(app.url, lead(2000 + i))));
            await sleep(4000);
            mode = 'hang';
            await sleep(4000);
            assert.equal(delivered.size, 0);
            mode = 'up';
            await eventually(() => (ids.every((id) => delivered.has(id)) ? true : undefined), 90_000, 'every lead at the webhook');
            assert.deepEqual(
                [...delivered.values()].filter((count) => count !== 1),
                [],
                'each lead once',
            );
            const rows = await tableRows(azurite.connectionString);
            for (const id of ids) assert.equal(rows.get(id), 1);
        } finally {
            await app.stop();
            await webhook.close();
            await azurite.stop();
        }
    });

    it("destination hanging: the table gets every lead at once, the webhook's circuit opens, and each lead reaches it once it answers", async () => {
        const azurite = await startAzurite();
        let hanging = true;
        const delivered = new Map<string, number>();
        const webhook = await startTestServer((request, res) => {
            if (hanging) return setTimeout(() => res.destroy(), 60_000).unref();
            const { id } = JSON.parse(request.body) as Lead;
            delivered.set(id, (delivered.get(id) ?? 0) + 1);
            json(res, 200, { ok: true });
        });
        const app = await startApp({
            env: webhookAppEnv(azurite, webhook.url, { DELIVERY_TIMEOUT_SECONDS: '10', DELIVERY_RETRY_SECONDS: '1' }),
            port: await freePort(),
        });
        try {
            const ids = await Promise.all(Array.from({ length: 100 }, (_, i) => postLead(app.url, lead(4000 + i))));
            // Before #7, every message waited on the webhook: 24 at a time, 10 s each, about 50 s for the table.
            // Now the first fan-outs wait DELIVERY_INLINE_SECONDS (10 s) on it, with their rows already
            // written, and hand it their leads; the instance then queues the webhook's leads at once.
            const rows = await allStored(azurite.connectionString, ids, 20_000);
            for (const id of ids) assert.equal(rows.get(id), 1);
            await eventually(() => (/webhook destination's circuit is open/.test(app.output()) ? true : undefined), 30_000, 'the circuit to open');
            hanging = false;
            await eventually(() => (ids.every((id) => delivered.has(id)) ? true : undefined), 150_000, 'every lead at the webhook');
            assert.match(app.output(), /webhook destination answered again: its circuit is closed/);
            const repeats = [...delivered.values()].filter((count) => count !== 1).length;
            assert.equal(repeats, 0, 'each lead once');
        } finally {
            await app.stop();
            await webhook.close();
            await azurite.stop();
        }
    });

    it('destination slower than the fan-out waits: handed to its queue past DELIVERY_INLINE_SECONDS, each lead delivered under one key, inline again once it answers fast', async () => {
        const azurite = await startAzurite();
        let slow = true;
        const held: Array<() => void> = [];
        const answered = new Map<string, number>();
        const keys = new Map<string, Set<string>>();
        const webhook = await startTestServer(async (request, res) => {
            const { id } = JSON.parse(request.body) as Lead;
            keys.set(id, (keys.get(id) ?? new Set()).add(String(request.headers['idempotency-key'])));
            if (slow) await new Promise<void>((resolve) => held.push(resolve));
            if (res.destroyed) return;
            answered.set(id, (answered.get(id) ?? 0) + 1);
            json(res, 200, { ok: true });
        });
        const app = await startApp({
            env: webhookAppEnv(azurite, webhook.url, { DELIVERY_INLINE_SECONDS: '1', DELIVERY_TIMEOUT_SECONDS: '5', DELIVERY_RETRY_SECONDS: '1' }),
            port: await freePort(),
        });
        /** What the fan-out did with each lead's webhook delivery, from its log line ("table=delivered, webhook=queued"). */
        const fanOut = (ids: readonly string[]) => ids.map((id) => new RegExp(`Lead ${id} \\(version [0-9a-f]+\\): table=delivered, webhook=([a-z-]+)`).exec(app.output())?.[1]);
        const fannedOut = (ids: readonly string[]) => eventually(() => (fanOut(ids).every(Boolean) ? fanOut(ids) : undefined), 30_000, 'the fan-out of every lead');
        try {
            const first = await Promise.all(Array.from({ length: 5 }, (_, i) => postLead(app.url, lead(7000 + i))));
            // Every row is stored while the webhook has answered nothing: the slow call holds only itself.
            const rows = await allStored(azurite.connectionString, first, 30_000);
            assert.equal(answered.size, 0);
            for (const id of first) assert.equal(rows.get(id), 1);
            assert.deepEqual(await fannedOut(first), Array(5).fill('handed-off'));
            // Once one was cut off, this instance queues the webhook's leads without waiting on it.
            const second = await Promise.all(Array.from({ length: 5 }, (_, i) => postLead(app.url, lead(7100 + i))));
            assert.deepEqual(await fannedOut(second), Array(5).fill('queued'));
            slow = false;
            held.splice(0).forEach((resolve) => resolve());
            await eventually(() => ([...first, ...second].every((id) => answered.has(id)) ? true : undefined), 60_000, 'every lead at the webhook');
            // A queued delivery answered at once: the webhook is called inline again (after the third wave, whose deliveries show it).
            const third = await Promise.all(Array.from({ length: 3 }, (_, i) => postLead(app.url, lead(7200 + i))));
            await fannedOut(third);
            await eventually(() => (third.every((id) => answered.has(id)) ? true : undefined), 30_000, 'the third wave at the webhook');
            const fourth = await Promise.all(Array.from({ length: 3 }, (_, i) => postLead(app.url, lead(7300 + i))));
            assert.deepEqual(await fannedOut(fourth), Array(3).fill('delivered'));
            const all = [...first, ...second, ...third, ...fourth];
            await eventually(() => (all.every((id) => answered.has(id)) ? true : undefined), 30_000, 'every lead at the webhook');
            // A call cut off at the budget may have reached the webhook: its repeat carries the same key.
            for (const id of all) assert.equal(keys.get(id)?.size, 1, `lead ${id} reached the webhook under one Idempotency-Key`);
            const deliveries = TableClient.fromConnectionString(azurite.connectionString, 'LeadDeliveries', { allowInsecureConnection: true });
            for (const id of all) assert.equal((await deliveries.getEntity<{ State: string }>(id, 'webhook')).State, 'delivered');
            const final = await tableRows(azurite.connectionString);
            for (const id of all) assert.equal(final.get(id), 1);
        } finally {
            held.splice(0).forEach((resolve) => resolve());
            await app.stop();
            await webhook.close();
            await azurite.stop();
        }
    });

    it('mail transport failing: the leads are mailed once it recovers, none twice', async () => {
        const azurite = await startAzurite();
        const smtp = await startSmtpServer();
        const app = await startApp({
            env: {
                AzureWebJobsStorage: azurite.connectionString,
                EMAIL_TRANSPORT: 'smtp',
                SMTP_HOST: '127.0.0.1',
                SMTP_PORT: String(smtp.port),
                NOTIFY_TO: 'ops@contoso.example',
                NOTIFY_SCHEDULE: '*/2 * * * * *',
            },
            port: await freePort(),
        });
        try {
            smtp.refuseNext(1_000_000);
            const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => postLead(app.url, lead(3000 + i))));
            await sleep(7000);
            assert.equal(smtp.mails.length, 0);
            smtp.refuseNext(0);
            const mailed = await eventually(
                () => {
                    const all = smtp.mails.flatMap((m) => leadIdsIn(parseMail(m.raw)));
                    return ids.every((id) => all.includes(id)) ? all : undefined;
                },
                30_000,
                'every lead mailed',
            );
            await sleep(4500);
            const all = smtp.mails.flatMap((m) => leadIdsIn(parseMail(m.raw)));
            assert.equal(all.length, new Set(all).size, 'no lead mailed twice');
            assert.ok(mailed.length >= ids.length);
        } finally {
            await app.stop();
            await smtp.close();
            await azurite.stop();
        }
    });

    it('clock skew: an update taken by an instance 5 minutes behind is an update, and the first version sent again is a repeat', async () => {
        const azurite = await startAzurite();
        const calls: { id: string; event: string; description: string }[] = [];
        const webhook = await startTestServer((request, res) => {
            const body = JSON.parse(request.body) as Lead & { event: string };
            calls.push({ id: body.id, event: body.event, description: body.description });
            json(res, 200, { ok: true });
        });
        const env = {
            AzureWebJobsStorage: azurite.connectionString,
            LEAD_DESTINATIONS: 'table,webhook',
            WEBHOOK_URL: webhook.url,
            'AzureWebJobs.notifyContacts.Disabled': 'true',
            'AzureWebJobs.sendAlerts.Disabled': 'true',
        };
        const a = await startApp({ env, port: await freePort() });
        const b = await startApp({ env: { ...env, NODE_OPTIONS: `--require ${join(buildRoot, 'test', 'fixtures', 'skewedClock.js')}`, CLOCK_SKEW_MS: String(-5 * 60_000) }, port: await freePort() });
        const table = TableClient.fromConnectionString(azurite.connectionString, 'MarketplaceLeads', { allowInsecureConnection: true });
        const rowOf = async (id: string) => {
            for await (const row of table.listEntities<{ LeadId: string; Description: string; Occurrences: number }>({ queryOptions: { filter: `LeadId eq '${id}'` } })) return row;
            return undefined;
        };
        try {
            const first = { ...lead(5000), Description: 'Just looking' };
            const id = await postLead(a.url, first);
            await eventually(() => (calls.length === 1 ? true : undefined), 30_000, 'the first version at the webhook');
            await sleep(2000);
            assert.equal(await postLead(b.url, { ...lead(5000), Description: 'Ready to buy 500 seats' }), id);
            await eventually(() => (calls.length === 2 ? true : undefined), 30_000, 'the update at the webhook');
            assert.equal(await postLead(a.url, first), id, 'the first version sent again');
            await eventually(async () => ((await rowOf(id))?.Occurrences === 3 ? true : undefined), 30_000, 'the third POST counted');
            await sleep(2000);
            assert.deepEqual(
                calls.map((call) => [call.event, call.description]),
                [
                    ['created', 'Just looking'],
                    ['updated', 'Ready to buy 500 seats'],
                ],
            );
            assert.equal((await rowOf(id))?.Description, 'Ready to buy 500 seats');
            const updates = TableClient.fromConnectionString(azurite.connectionString, 'MarketplaceLeadsUpdates', { allowInsecureConnection: true });
            let events = 0;
            for await (const event of updates.listEntities<{ LeadId: string }>()) if (event.LeadId === id) events++;
            assert.equal(events, 1, 'one update event for the digest');
        } finally {
            await Promise.all([a.stop(), b.stop()]);
            await webhook.close();
            await azurite.stop();
        }
    });

    it('killed mid-call: Teams, Slack and Salesforce Web-to-Lead, which cannot tell a retry, get each lead once; the restarted app sets them aside as uncertain', async () => {
        const azurite = await startAzurite();
        const posts = { teams: 0, slack: 0, salesforce: 0 };
        const slowly = (service: keyof typeof posts, answer: (res: ServerResponse) => void) =>
            startTestServer(async (_request, res) => {
                posts[service]++;
                await sleep(4000);
                answer(res);
            });
        const teams = await slowly('teams', (res) => res.writeHead(202).end());
        const slack = await slowly('slack', (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
        const salesforce = await slowly('salesforce', (res) => res.writeHead(200).end());
        const env = {
            AzureWebJobsStorage: azurite.connectionString,
            LEAD_DESTINATIONS: 'table,teams,slack,salesforce',
            TEAMS_WEBHOOK_URL: `${teams.url}/workflows/0a1b/triggers/manual/paths/invoke?api-version=1&sig=faults`,
            SLACK_WEBHOOK_URL: `${slack.url}/services/T0001/B0001/faults`,
            SALESFORCE_OID: '00D000000000001',
            SALESFORCE_URL: `${salesforce.url}/servlet/servlet.WebToLead?encoding=UTF-8`,
            DELIVERY_TIMEOUT_SECONDS: '5',
            'AzureWebJobs.notifyContacts.Disabled': 'true',
            'AzureWebJobs.sendAlerts.Disabled': 'true',
        };
        const port = await freePort();
        let app = await startApp({ env, port });
        try {
            const id = await postLead(app.url, lead(6000));
            await eventually(() => (posts.teams + posts.slack + posts.salesforce === 3 ? true : undefined), 30_000, 'the three calls under way');
            await sleep(1000);
            app.child.kill('SIGKILL');
            await app.stop();
            app = await startApp({ env, port });
            const records = TableClient.fromConnectionString(azurite.connectionString, 'LeadDeliveries', { allowInsecureConnection: true });
            // The dead host's messages come back when their queue lease runs out (a minute on the local host).
            const states = await eventually(
                async () => {
                    const found = new Map<string, string>();
                    for await (const record of records.listEntities<{ State: string }>({ queryOptions: { filter: `PartitionKey eq '${id}'` } })) found.set(record.rowKey ?? '', record.State);
                    return ['teams', 'slack', 'salesforce'].every((name) => found.get(name) === 'uncertain') ? found : undefined;
                },
                120_000,
                'the three deliveries uncertain',
            );
            assert.equal(states.get('table'), 'delivered');
            await sleep(2000);
            assert.deepEqual(posts, { teams: 1, slack: 1, salesforce: 1 }, 'no service posted to twice');
            const poisoned = await new QueueClient(azurite.connectionString, 'leads-poison').peekMessages({ numberOfMessages: 32 });
            const destinations = poisoned.peekedMessageItems.map((m) => (JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as { delivery?: { destination?: string } }).delivery?.destination).sort();
            assert.deepEqual(destinations, ['salesforce', 'slack', 'teams'], 'each set aside for a person');
        } finally {
            await app.stop();
            await Promise.all([teams.close(), slack.close(), salesforce.close()]);
            await azurite.stop();
        }
    });

    it('destination failing behind an open circuit: the failing alert comes ALERT_FAILING_MINUTES after the first failure, whichever leads probe it', async () => {
        const azurite = await startAzurite();
        const smtp = await startSmtpServer();
        const webhook = await startTestServer((_request, res) => json(res, 503, { error: 'maintenance' }));
        const app = await startApp({
            env: {
                AzureWebJobsStorage: azurite.connectionString,
                LEAD_DESTINATIONS: 'table,webhook',
                WEBHOOK_URL: webhook.url,
                // The leads that failed first wait two minutes for their retry: every probe within the test is a fresh lead.
                DELIVERY_RETRY_SECONDS: '120',
                EMAIL_TRANSPORT: 'smtp',
                SMTP_HOST: '127.0.0.1',
                SMTP_PORT: String(smtp.port),
                NOTIFY_TO: 'ops@contoso.example',
                'AzureWebJobs.notifyContacts.Disabled': 'true',
                ALERT_SCHEDULE: '*/5 * * * * *',
                ALERT_FAILING_MINUTES: '0.5',
            },
            port: await freePort(),
        });
        try {
            const start = Date.now();
            await Promise.all(Array.from({ length: 60 }, (_, i) => postLead(app.url, lead(7000 + i))));
            await eventually(() => (webhook.requests.length > 0 ? true : undefined), 10_000, 'the first failure');
            const firstFailure = Date.now();
            // Due 30 s after the first failure; the first alert of its kind goes at the next run (every 5 s).
            await eventually(() => (smtp.mails.some((mail) => /failing/i.test(parseMail(mail.raw).subject)) ? true : undefined), 45_000, 'the failing alert');
            assert.match(app.output(), /webhook destination's circuit is open/);
            process.stdout.write(
                `# failing alert ${Math.round((Date.now() - firstFailure) / 1000)} s after the first failure (${Math.round((Date.now() - start) / 1000)} s after the first POST), ${webhook.requests.length} calls\n`,
            );
        } finally {
            await app.stop();
            await webhook.close();
            await smtp.close();
            await azurite.stop();
        }
    });
});
