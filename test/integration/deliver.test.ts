import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { webhookSignature } from '../../src/deliver/destinations/webhook';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import type { Lead } from '../../src/lead/lead';
import type { LeadEntity } from '../../src/store/leadsTable';
import { json, startTestServer, type RecordedRequest, type TestServer } from '../helpers/httpServer';
import { freePort, postLead, startApp, type RunningApp } from '../helpers/processes';
import { eventually } from '../helpers/queues';
import { buildRoot, documentedSample } from '../helpers/samples';

const run = promisify(execFile);

describe('delivering leads to the table and a webhook, through the local host and Azurite', () => {
    let azurite: Azurite;
    let app: RunningApp;
    let webhook: TestServer;
    let healed = false;
    const seen = new Map<string, number>();
    const env: Record<string, string> = {};

    before(async () => {
        azurite = await startAzurite();
        webhook = await startTestServer((request, res) => {
            const lead = JSON.parse(request.body) as Lead;
            const count = (seen.get(lead.id) ?? 0) + 1;
            seen.set(lead.id, count);
            const company = lead.customer.company;
            if (company === 'fail-twice' && count <= 2) return json(res, 503, { error: 'down for maintenance' });
            if (company === 'always-fail' && !healed) return json(res, 503, { error: 'down' });
            if (company === 'bad-request') return json(res, 400, { error: 'unknown field "x"' });
            if (company === 'hang-once' && count === 1) return; // never answers
            json(res, 200, { ok: true });
        });
        Object.assign(env, {
            AzureWebJobsStorage: azurite.connectionString,
            LEAD_DESTINATIONS: 'table, webhook',
            WEBHOOK_URL: `${webhook.url}/hook`,
            WEBHOOK_SECRET: 'test-secret',
            DELIVERY_RETRY_SECONDS: '1',
            DELIVERY_MAX_ATTEMPTS: '3',
            DELIVERY_TIMEOUT_SECONDS: '1',
        });
        app = await startApp({ env, port: await freePort() });
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await app?.stop();
        await webhook?.close();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    const post = (body: unknown) => postLead(app.url, body);

    function leadWith(company: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
        return { UserDetails: { FirstName: 'Ada', Email: `ada+${company}@contoso.example`, Company: company }, LeadSource: 'AzureMarketplace-INS|contoso.analytics', OfferTitle: 'Contoso Analytics', ...extra };
    }

    async function rows(id: string): Promise<LeadEntity[]> {
        const table = TableClient.fromConnectionString(azurite.connectionString, 'MarketplaceLeads', { allowInsecureConnection: true });
        const found: LeadEntity[] = [];
        try {
            for await (const row of table.listEntities<LeadEntity>({ queryOptions: { filter: `LeadId eq '${id}'` } })) found.push(row);
        } catch {
            return [];
        }
        return found;
    }

    const successfulHooks = (id: string) => webhook.requests.filter((r) => r.headers['idempotency-key'] === id && (JSON.parse(r.body) as Lead).id === id);

    /** `npm run leads -- status <id>`; it exits 1 while nothing is recorded yet. */
    async function status(id: string): Promise<string> {
        const args = [join(buildRoot, 'src/scripts/leads.js'), 'status', id, '--settings', '/nonexistent'];
        return run(process.execPath, args, { env: { ...process.env, ...env } }).then(
            ({ stdout }) => stdout,
            (error: unknown) => (error as { stdout?: string }).stdout ?? '',
        );
    }

    it('writes the documented sample as one row with the marketplace columns; posting it again counts a second occurrence', async () => {
        const id = await post(documentedSample());
        const [row] = await eventually(async () => ((await rows(id)).length > 0 ? rows(id) : undefined), 10_000, 'the table row');
        assert.ok(row);
        assert.equal(row.LeadSource, 'AzureMarketplace');
        assert.equal(row.ActionCode, 'INS');
        assert.equal(row.OfferDisplayName, 'Test Microsoft');
        assert.equal(row.Description, 'Test run through Power Automate');
        assert.deepEqual(JSON.parse(row.CustomerInfo), { FirstName: 'Some', LastName: 'One', Email: 'someone@contoso.com', Phone: '16175555555', Country: 'USA', Company: 'Contoso', Title: 'Esquire' });
        assert.match(row.CreatedTime, /^\d{4}-\d\d-\d\dT/);
        assert.equal(row.Occurrences, 1);
        assert.equal(row.IsTest, false);
        assert.equal(row.DoNotContact, false);
        assert.equal(row.DedupeKey, 'someone@contoso.com|test microsoft|ins');

        assert.equal(await post(documentedSample()), id);
        const counted = await eventually(
            async () => {
                const again = await rows(id);
                return again[0]?.Occurrences === 2 ? again : undefined;
            },
            15_000,
            'the second occurrence',
        );
        assert.equal(counted.length, 1);
        // The webhook drains its own queue: the table row being counted says nothing of it yet.
        await eventually(() => (successfulHooks(id).length > 0 ? true : undefined), 15_000, 'the webhook call');
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal(successfulHooks(id).length, 1, 'the webhook got the lead once');
    });

    it('retries a webhook that fails twice, and delivers to it and the table exactly once each', async () => {
        const id = await post(leadWith('fail-twice'));
        await eventually(() => (successfulHooks(id).length === 3 ? true : undefined), 20_000, 'the third webhook call');
        await eventually(async () => (/webhook\s+delivered/.test(await status(id)) ? true : undefined), 5000, 'the delivery record');
        assert.equal((await rows(id)).length, 1);
        assert.equal((await rows(id))[0]?.Occurrences, 1);
        const report = await status(id);
        assert.match(report, /table\s+delivered\s+attempts 1/);
        assert.match(report, /webhook\s+delivered\s+attempts 3/);
    });

    it('signs the webhook body with WEBHOOK_SECRET over the timestamp and body', async () => {
        const id = await post(leadWith('signed'));
        const request: RecordedRequest = await eventually(() => successfulHooks(id)[0], 10_000, 'the webhook call');
        const timestamp = String(request.headers['x-lead-timestamp']);
        assert.equal(request.headers['x-lead-signature'], webhookSignature('test-secret', timestamp, request.body));
    });

    it('sends a do-not-contact lead to the table only', async () => {
        const id = await post(leadWith('dnc', { LeadSource: 'AzureMarketplace-DNC|contoso.analytics' }));
        await eventually(async () => ((await rows(id)).length === 1 ? true : undefined), 10_000, 'the table row');
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal(successfulHooks(id).length, 0);
        assert.equal((await rows(id))[0]?.DoNotContact, true);
    });

    it('times out a webhook that hangs and delivers on the retry', async () => {
        const id = await post(leadWith('hang-once'));
        await eventually(async () => ((await status(id)).match(/webhook\s+delivered\s+attempts 2/) ? true : undefined), 20_000, 'the retried delivery');
    });

    it('poisons a lead the webhook refuses with a 4xx at once, without retrying', async () => {
        const id = await post(leadWith('bad-request'));
        const report = await eventually(
            async () => {
                const text = await status(id);
                return /webhook\s+failed/.test(text) ? text : undefined;
            },
            10_000,
            'the failure record',
        );
        assert.match(report, /attempts 1 .*permanent The webhook answered 400\.$/m);
        assert.equal(successfulHooks(id).length, 1);
    });

    it('poisons a lead whose webhook always fails, with the reason; replay-poison delivers it once the webhook works, without a second table row', async () => {
        const id = await post(leadWith('always-fail'));
        const poison = new QueueClient(azurite.connectionString, 'leads-poison');
        const poisoned = await eventually(
            async () => {
                const { peekedMessageItems } = await poison.peekMessages({ numberOfMessages: 32 }).catch(() => ({ peekedMessageItems: [] }));
                return peekedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as Lead & { delivery?: { reason?: string; attempt: number } }).find((lead) => lead.id === id);
            },
            30_000,
            'the poisoned lead',
        );
        assert.equal(poisoned.delivery?.attempt, 3);
        assert.equal(poisoned.delivery.reason, undefined, 'reasons stay in the delivery record, so a retry never outgrows a message');
        assert.match(await status(id), /webhook\s+failed\s+attempts 3 .*The webhook answered 503/);
        assert.equal(successfulHooks(id).length, 3);
        assert.equal((await rows(id)).length, 1);

        healed = true;
        const { stdout } = await run(process.execPath, [join(buildRoot, 'src/scripts/leads.js'), 'replay-poison', '--settings', '/nonexistent'], { env: { ...process.env, ...env } });
        assert.match(stdout, /Replayed \d+ lead\(s\) from the poison queues/);
        assert.match(stdout, new RegExp(`${id}: webhook again, after: The webhook answered 503`));
        await eventually(async () => ((await status(id)).match(/webhook\s+delivered\s+attempts 4/) ? true : undefined), 15_000, 'the replayed delivery');
        assert.equal(successfulHooks(id).length, 4);
        const [row, ...more] = await rows(id);
        assert.equal(more.length, 0);
        assert.equal(row?.Occurrences, 1);
    });
});
