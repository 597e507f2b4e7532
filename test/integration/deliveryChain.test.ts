import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { InvocationContext } from '@azure/functions';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { closeAllCircuits } from '../../src/deliver/circuitBreaker';
import { deliverLead } from '../../src/deliver/deliverLead';
import { deliverToDestination } from '../../src/deliver/deliverToDestination';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { maxBodyBytes } from '../../src/intake/acceptLead';
import { AnonymousRetries, anonymousRetryWindowMs } from '../../src/intake/anonymousRetries';
import { parseLead } from '../../src/intake/parseLead';
import type { Lead } from '../../src/lead/lead';
import { leadMessageReserve } from '../../src/queue/leadMessage';
import { encodeQueueMessage, maxQueueMessageLength } from '../../src/queue/message';
import type { HistoryEntry, LeadEntity, LeadUpdateEntity } from '../../src/store/leadsTable';
import { json, startTestServer, type Responder, type TestServer } from '../helpers/httpServer';
import { eventually } from '../helpers/queues';

/*
 * The delivery chain in-process, against Azurite and local look-alikes of the destinations: retry
 * links that are duplicated by a crash, leases that must cover a CRM's longest call chain, calls
 * whose fate is uncertain, leads at the size limit, and leads that come back with new content.
 */

type Message = Lead & { delivery?: { destination?: string; ticket: number; attempt: number; replay?: boolean } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let receipt = 0;

function leadWith(company: string, overrides: Record<string, unknown> = {}, receivedAt = new Date()): Lead {
    const body = {
        UserDetails: { FirstName: 'Ada', Email: `ada+${company.toLowerCase()}@contoso.example`, Company: company, Title: 'CTO' },
        LeadSource: 'AzureMarketplace-INS|contoso.analytics',
        OfferTitle: 'Contoso Analytics',
        ...overrides,
    };
    return parseLead(JSON.stringify(body), 'json', { receivedAt, receiptId: `receipt-${++receipt}` });
}

function forDestination(lead: Lead, destination: string, ticket = 1, attempt = 1): Message {
    return { ...lead, delivery: { destination, ticket, attempt } };
}

describe('the delivery chain, in-process against Azurite and local destinations', () => {
    let azurite: Azurite;
    let webhook: TestServer;
    let marketo: TestServer;
    let salesforce: TestServer;
    const logs: string[] = [];
    const context = () => new InvocationContext({ logHandler: (_level, ...args: unknown[]) => logs.push(args.map(String).join(' ')) });

    let webhookRespond: Responder = (_, res) => json(res, 200, {});
    let salesforceRespond: Responder = (_, res) => res.writeHead(200).end();
    let syncsInFlight = 0;
    let mostSyncsAtOnce = 0;

    before(async () => {
        azurite = await startAzurite();
        webhook = await startTestServer((request, res) => webhookRespond(request, res));
        salesforce = await startTestServer((request, res) => salesforceRespond(request, res));
        let tokens = 0;
        let syncs = 0;
        // Each call takes 0.9 × DELIVERY_TIMEOUT_SECONDS, and the first sync says the token expired (602):
        // the whole chain (token, sync, token, sync) outlasts three time-outs, the lease there was before.
        marketo = await startTestServer(async (request, res) => {
            await sleep(900);
            if (request.path.startsWith('/identity/oauth/token')) return json(res, 200, { access_token: `t${++tokens}`, expires_in: 3600 });
            syncsInFlight++;
            mostSyncsAtOnce = Math.max(mostSyncsAtOnce, syncsInFlight);
            await sleep(0);
            syncsInFlight--;
            if (++syncs === 1) return json(res, 200, { success: false, errors: [{ code: '602', message: 'Access token expired' }] });
            return json(res, 200, { success: true, result: [{ id: 7, status: 'updated' }] });
        });
        Object.assign(process.env, {
            AzureWebJobsStorage: azurite.connectionString,
            LEADS_QUEUE: 'chain',
            LEAD_DESTINATIONS: 'table,webhook',
            WEBHOOK_URL: `${webhook.url}/hook`,
            SALESFORCE_OID: '00D000000000001',
            SALESFORCE_URL: `${salesforce.url}/servlet/servlet.WebToLead`,
            MARKETO_URL: marketo.url,
            MARKETO_CLIENT_ID: 'cid',
            MARKETO_CLIENT_SECRET: 'secret',
            // What Azure passes on when the app's identity may not read the vault: the reference's text.
            HUBSPOT_TOKEN: '@Microsoft.KeyVault(SecretUri=https://contoso-leads.vault.azure.net/secrets/hubspot-token/)',
            HUBSPOT_URL: `${webhook.url}/hubspot`,
            DELIVERY_MAX_ATTEMPTS: '3',
            DELIVERY_RETRY_SECONDS: '1',
            DELIVERY_TIMEOUT_SECONDS: '1',
        });
    });

    beforeEach(() => closeAllCircuits());

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await Promise.all([webhook?.close(), marketo?.close(), salesforce?.close()]);
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    const queue = (name: string) => new QueueClient(azurite.connectionString, name);

    /** The messages of one lead on a queue, waiting for them to become visible (retries are delayed). */
    async function takeFrom(name: string, leadId: string, count: number): Promise<Message[]> {
        const taken: Message[] = [];
        await eventually(
            async () => {
                const client = queue(name);
                if (!(await client.exists())) return undefined;
                const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 1 });
                for (const item of receivedMessageItems) {
                    const value = JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')) as Message;
                    if (value.id !== leadId) continue;
                    taken.push(value);
                    await client.deleteMessage(item.messageId, item.popReceipt);
                }
                return taken.length >= count ? true : undefined;
            },
            15_000,
            `${count} message(s) of lead ${leadId} on ${name}`,
        );
        return taken;
    }

    async function leftOn(name: string, leadId: string, waitMs = 2500): Promise<number> {
        await sleep(waitMs);
        const { peekedMessageItems } = await queue(name)
            .peekMessages({ numberOfMessages: 32 })
            .catch(() => ({ peekedMessageItems: [] }));
        return peekedMessageItems.filter((m) => (JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as Message).id === leadId).length;
    }

    const hooksFor = (id: string) => webhook.requests.filter((r) => (JSON.parse(r.body) as Lead).id === id);

    it('keeps one retry chain when a link is delivered twice (a crash between sending the next link and deleting this one)', async () => {
        webhookRespond = (_, res) => json(res, 503, { error: 'down' });
        const lead = leadWith('Forked');
        const first = forDestination(lead, 'webhook');
        assert.equal(await deliverToDestination(first, context()), 'retrying');
        assert.equal(await deliverToDestination(first, context()), 'stale', 'the original, seen again, does not call or schedule again');
        const [second, ...more] = await takeFrom('chain-webhook', lead.id, 1);
        assert.equal(more.length, 0);
        assert.deepEqual(second?.delivery, { destination: 'webhook', ticket: 2, attempt: 2 });
        const results = await Promise.all([deliverToDestination(second, context()), deliverToDestination(second, context())]);
        assert.deepEqual(results.sort(), ['busy', 'retrying'], 'two copies of one link: one delivers, one waits');
        const links = await takeFrom('chain-webhook', lead.id, 2);
        const third = links.find((m) => m.delivery?.ticket === 3);
        assert.ok(third, 'the next link');
        for (const link of links) await deliverToDestination(link, context());
        assert.equal(await deliverToDestination(third, context()), 'stale');
        assert.equal(hooksFor(lead.id).length, 3, 'three attempts in all, not six');
        const poisoned = await takeFrom('chain-poison', lead.id, 1);
        assert.equal(await leftOn('chain-poison', lead.id, 500), 0, 'one poison entry, not two');
        assert.equal(poisoned[0]?.delivery?.attempt, 3);
        assert.equal(await leftOn('chain-webhook', lead.id), 0);
        webhookRespond = (_, res) => json(res, 200, {});
    });

    it('keeps a lead at the size limit retrying: the retry and poison copies still fit in a message', async () => {
        webhookRespond = (_, res) => json(res, 503, {});
        const filler = 'x'.repeat(Math.floor(((maxQueueMessageLength - leadMessageReserve) * 3) / 4) - 800);
        const lead = leadWith('Huge', { Description: filler });
        assert.ok(encodeQueueMessage(lead).length <= maxQueueMessageLength - leadMessageReserve, 'intake accepts it');
        assert.ok(encodeQueueMessage(lead).length > maxQueueMessageLength - leadMessageReserve - 2000, 'it is near the limit');
        assert.ok(maxBodyBytes >= filler.length);
        let message: Message = forDestination(lead, 'webhook');
        for (const expected of ['retrying', 'retrying', 'poisoned']) {
            assert.equal(await deliverToDestination(message, context()), expected);
            if (expected === 'retrying') [message] = (await takeFrom('chain-webhook', lead.id, 1)) as [Message];
        }
        const [poisoned] = await takeFrom('chain-poison', lead.id, 1);
        assert.equal(poisoned?.description.length, filler.length, 'nothing cut');
        webhookRespond = (_, res) => json(res, 200, {});
    });

    it('leases a Marketo delivery for its longest call chain, so a second copy waits instead of syncing at the same time', async () => {
        const first = leadWith('Leased');
        const second = { ...first, receiptId: `receipt-${++receipt}` };
        const running = deliverToDestination(forDestination(first, 'marketo'), context());
        await sleep(3200);
        assert.equal(await deliverToDestination(forDestination(second, 'marketo'), context()), 'busy');
        assert.equal(await running, 'delivered');
        assert.equal(mostSyncsAtOnce, 1);
        assert.equal(marketo.requests.filter((r) => r.path === '/rest/v1/leads.json').length, 2, 'the sync, and again after a new token');
    });

    it('records a Web-to-Lead call that timed out as uncertain, sets it aside for a person, and does not call again', async () => {
        salesforceRespond = () => undefined;
        const lead = leadWith('Uncertain');
        assert.equal(await deliverToDestination(forDestination(lead, 'salesforce'), context()), 'uncertain');
        const records = TableClient.fromConnectionString(azurite.connectionString, 'LeadDeliveries', { allowInsecureConnection: true });
        const record = await records.getEntity<{ State: string; LastError: string }>(lead.id, 'salesforce');
        assert.equal(record.State, 'uncertain');
        assert.match(record.LastError, /did not answer within 1000 ms; Salesforce may have the lead/);
        const [poisoned] = await takeFrom('chain-poison', lead.id, 1);
        assert.equal(poisoned?.delivery?.destination, 'salesforce');
        assert.equal(await deliverToDestination(forDestination(lead, 'salesforce'), context()), 'repeat', 'the same message again calls no more');
        assert.equal(salesforce.requests.length, 1);
        assert.ok(logs.some((line) => /salesforce is uncertain/.test(line)));
        salesforceRespond = (_, res) => res.writeHead(200).end();
    });

    it('makes a repeat with new content an update: the row shows it with its history, the webhook gets "updated", the digest feed an event', async () => {
        const t0 = Date.now();
        const first = leadWith('Returning', { Phone: '+1 555 0100', Description: 'Just looking' }, new Date(t0));
        await deliverLead(first, context());
        const [link] = await takeFrom('chain-webhook', first.id, 1);
        assert.equal(await deliverToDestination(link, context()), 'delivered');

        const retry = { ...first, receiptId: `receipt-${++receipt}`, receivedAt: new Date(t0 + 1000).toISOString() };
        await deliverLead(retry, context());
        const [retryLink] = await takeFrom('chain-webhook', first.id, 1);
        assert.equal(await deliverToDestination(retryLink, context()), 'repeat', 'an identical repeat only counts');

        const update = leadWith(
            'Returning',
            { UserDetails: { FirstName: 'Ada', Email: 'ada+returning@contoso.example', Company: 'Returning', Title: 'CEO', Phone: '' }, Description: 'Ready to buy 500 seats' },
            new Date(t0 + 2000),
        );
        assert.equal(update.id, first.id);
        await deliverLead(update, context());
        const [updateLink] = await takeFrom('chain-webhook', first.id, 1);
        assert.equal(await deliverToDestination(updateLink, context()), 'delivered');

        const table = TableClient.fromConnectionString(azurite.connectionString, 'MarketplaceLeads', { allowInsecureConnection: true });
        const rows: LeadEntity[] = [];
        for await (const row of table.listEntities<LeadEntity>({ queryOptions: { filter: `LeadId eq '${first.id}'` } })) rows.push(row);
        assert.equal(rows.length, 1);
        const [row] = rows as [LeadEntity];
        assert.equal(row.Occurrences, 3);
        assert.equal(row.CreatedTime, first.receivedAt, 'first seen is kept');
        assert.equal(row.Description, 'Ready to buy 500 seats');
        assert.equal((JSON.parse(row.CustomerInfo) as { Title: string }).Title, 'CEO');
        const history = JSON.parse(row.History ?? '[]') as HistoryEntry[];
        assert.equal(history.length, 1);
        assert.deepEqual(history[0]?.changed, ['Description', 'Phone', 'Title']);
        assert.equal(history[0].before.Description, 'Just looking');

        const hooks = hooksFor(first.id);
        assert.equal(hooks.length, 2, 'the first version and the update; the identical repeat sent nothing');
        const [created, updated] = hooks.map((h) => ({ body: JSON.parse(h.body) as { event: string; description: string }, key: h.headers['idempotency-key'] }));
        assert.deepEqual([created?.body.event, created?.key], ['created', first.id]);
        assert.deepEqual([updated?.body.event, updated?.key, updated?.body.description], ['updated', `${first.id}.${update.version}`, 'Ready to buy 500 seats']);

        const updates = TableClient.fromConnectionString(azurite.connectionString, 'MarketplaceLeadsUpdates', { allowInsecureConnection: true });
        const events: LeadUpdateEntity[] = [];
        for await (const event of updates.listEntities<LeadUpdateEntity>()) if (event.LeadId === first.id) events.push(event);
        assert.equal(events.length, 1);
        assert.equal(events[0]?.Changed, 'Description, Phone, Title');
        assert.equal(events[0].FirstSeenAt, first.receivedAt);
    });

    it('poisons a lead for a destination whose secret is an unresolved Key Vault reference, naming the setting, without calling it', async () => {
        const lead = leadWith('Vaulted');
        const before = webhook.requests.length;
        assert.equal(await deliverToDestination(forDestination(lead, 'hubspot'), context()), 'poisoned');
        assert.equal(webhook.requests.length, before, 'no call carried the reference as a token');
        const [poisoned] = await takeFrom('chain-poison', lead.id, 1);
        assert.equal(poisoned?.delivery?.destination, 'hubspot');
        const line = logs.find((l) => l.includes(lead.id) && l.includes('hubspot')) ?? '';
        assert.match(line, /HUBSPOT_TOKEN is an unresolved Key Vault reference.*Key Vault Secrets User/);
        assert.equal(await deliverToDestination(forDestination(leadWith('Vaulted webhook'), 'webhook'), context()), 'delivered', 'the other destinations go on');
    });

    it('never delivers an older version over a newer one that arrived first', async () => {
        const t0 = Date.now();
        const older = leadWith('Reordered', { Description: 'old' }, new Date(t0));
        const newer = leadWith('Reordered', { Description: 'new' }, new Date(t0 + 1000));
        assert.equal(await deliverToDestination(forDestination(newer, 'webhook'), context()), 'delivered');
        assert.equal(await deliverToDestination(forDestination(older, 'webhook'), context()), 'repeat');
        assert.deepEqual(
            hooksFor(newer.id).map((h) => (JSON.parse(h.body) as Lead).description),
            ['new'],
        );
    });
});

describe('the retry window of anonymous leads', () => {
    it('ends ten minutes after the first POST: the same body later is a new lead', async () => {
        const azurite = await startAzurite();
        try {
            const retries = await AnonymousRetries.connect(azurite.connectionString, 'AnonymousWindow');
            const body = JSON.stringify({ LeadSource: 'AzureMarketplace-PLT|contoso.analytics' });
            const post = (receiptId: string) => parseLead(body, 'json', { receivedAt: new Date(), receiptId });
            const t0 = Date.parse('2026-11-22T10:00:00.000Z');
            assert.equal(await retries.anchorFor(post('first'), new Date(t0)), 'first');
            assert.equal(await retries.anchorFor(post('retry'), new Date(t0 + anonymousRetryWindowMs)), 'first');
            assert.equal(await retries.anchorFor(post('later'), new Date(t0 + anonymousRetryWindowMs + 1)), 'later');
            assert.equal(await retries.anchorFor(post('retry-of-later'), new Date(t0 + anonymousRetryWindowMs + 60_000)), 'later');
        } finally {
            await azurite.stop();
        }
    });
});
