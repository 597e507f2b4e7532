import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Readable } from 'node:stream';
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
import { DeliveryLog } from '../../src/deliver/deliveryLog';
import { historyOf, leadEntity, LeadsTable, rowKeysFor, type HistoryEntry, type LeadEntity, type LeadUpdateEntity } from '../../src/store/leadsTable';
import { versionOrder } from '../../src/lead/version';
import { json, startTestServer, type Responder, type TestServer } from '../helpers/httpServer';
import { eventually } from '../helpers/queues';
import { withSettings } from '../helpers/settings';
import { settings } from '../../src/config/settings';
import { replayPoison } from '../../src/deliver/replay';
import { DynamicsDestination } from '../../src/deliver/destinations/dynamics';
import { importLeads } from '../../src/import/importLeads';
import { JsonQueue } from '../../src/queue/jsonQueue';
import { DeliveryFailure } from '../../src/deliver/destination';

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
            // The chain is stepped through the webhook's queue, one link at a time; the fan-out's own calls have their test below.
            DELIVERY_INLINE_SECONDS: '0',
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

    /** The messages of one lead on a queue, with storage's insertion time of each, waiting for them to become visible (retries are delayed). */
    async function takeTimed(name: string, leadId: string, count: number): Promise<{ value: Message; insertedOn: Date }[]> {
        const taken: { value: Message; insertedOn: Date }[] = [];
        await eventually(
            async () => {
                const client = queue(name);
                if (!(await client.exists())) return undefined;
                const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 1 });
                for (const item of receivedMessageItems) {
                    const value = JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')) as Message;
                    if (value.id !== leadId) continue;
                    taken.push({ value, insertedOn: item.insertedOn });
                    await client.deleteMessage(item.messageId, item.popReceipt);
                }
                return taken.length >= count ? true : undefined;
            },
            15_000,
            `${count} message(s) of lead ${leadId} on ${name}`,
        );
        return taken;
    }

    async function takeFrom(name: string, leadId: string, count: number): Promise<Message[]> {
        return (await takeTimed(name, leadId, count)).map((taken) => taken.value);
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

    /** The leads table's row of a lead: its content and how many POSTs it counted. */
    async function rowOf(leadId: string): Promise<LeadEntity> {
        const table = TableClient.fromConnectionString(azurite.connectionString, 'MarketplaceLeads', { allowInsecureConnection: true });
        const rows: LeadEntity[] = [];
        for await (const row of table.listEntities<LeadEntity>({ queryOptions: { filter: `LeadId eq '${leadId}'` } })) rows.push(row);
        assert.equal(rows.length, 1, 'one row');
        return rows[0] as LeadEntity;
    }

    /** Fans a lead out as the host would, with storage's time of its message, and delivers its webhook link. */
    async function postThrough(lead: Lead, queuedAt: Date): Promise<string> {
        await deliverLead(lead, new InvocationContext({ logHandler: () => undefined, triggerMetadata: { insertionTime: queuedAt.toISOString() } }));
        const [link] = await takeFrom('chain-webhook', lead.id, 1);
        assert.equal(link?.queuedAt, queuedAt.toISOString(), "the fan-out stamps storage's time on the copies");
        return deliverToDestination(link, context());
    }

    it("orders a lead's versions by storage's time: an update taken by an instance 5 minutes behind is an update, not a late old version", async () => {
        const t0 = Date.now();
        const first = leadWith('Skewed', { Description: 'Just looking' }, new Date(t0));
        assert.equal(await postThrough(first, new Date(t0)), 'delivered');
        // Two seconds later, by storage's clock, on an instance whose clock is five minutes behind.
        const update = leadWith('Skewed', { Description: 'Ready to buy 500 seats' }, new Date(t0 + 2000 - 5 * 60_000));
        assert.equal(await postThrough(update, new Date(t0 + 2000)), 'delivered');
        assert.equal((await rowOf(first.id)).Description, 'Ready to buy 500 seats');
        assert.deepEqual(
            hooksFor(first.id).map((h) => (JSON.parse(h.body) as { event: string }).event),
            ['created', 'updated'],
        );
    });

    it("keeps the same order when the fan-out calls the webhook itself: v2 before v1 by storage's time, then v1 again, reach it as created, updated and nothing", async () => {
        await withSettings({ DELIVERY_INLINE_SECONDS: 5 }, async () => {
            const t0 = Date.now();
            const v1 = leadWith('Inline', { Description: 'Just looking' }, new Date(t0));
            const v2 = leadWith('Inline', { Description: 'Ready to buy 500 seats' }, new Date(t0 + 2000));
            const fanOut = (lead: Lead, queuedAt: Date) => deliverLead(lead, new InvocationContext({ logHandler: () => undefined, triggerMetadata: { insertionTime: queuedAt.toISOString() } }));
            await fanOut(v1, new Date(t0));
            await fanOut(v2, new Date(t0 + 2000));
            // v1 posted again, and a copy of v1 stamped before v2 that arrives late: neither reaches the webhook.
            await fanOut({ ...v1, receiptId: `receipt-${++receipt}`, receivedAt: new Date(t0 + 4000).toISOString() }, new Date(t0 + 4000));
            await fanOut({ ...v1, receiptId: `receipt-${++receipt}` }, new Date(t0 + 1000));
            assert.deepEqual(
                hooksFor(v1.id).map((h) => [(JSON.parse(h.body) as { event: string }).event, (JSON.parse(h.body) as Lead).description]),
                [
                    ['created', 'Just looking'],
                    ['updated', 'Ready to buy 500 seats'],
                ],
            );
            assert.equal((await rowOf(v1.id)).Description, 'Ready to buy 500 seats');
            assert.equal(await leftOn('chain-webhook', v1.id, 0), 0, 'nothing went through the queue');
        });
    });

    it('takes a version seen before for a repeat, never an update: v1, v2, then v1 again (a sender retrying the first POST)', async () => {
        const t0 = Date.now();
        const v1 = leadWith('Resent', { Description: 'Just looking' }, new Date(t0));
        const v2 = leadWith('Resent', { Description: 'Ready to buy 500 seats' }, new Date(t0 + 2000));
        assert.equal(await postThrough(v1, new Date(t0)), 'delivered');
        assert.equal(await postThrough(v2, new Date(t0 + 2000)), 'delivered');
        const again = { ...v1, receiptId: `receipt-${++receipt}`, receivedAt: new Date(t0 + 4000).toISOString() };
        assert.equal(await postThrough(again, new Date(t0 + 4000)), 'repeat');
        const row = await rowOf(v1.id);
        assert.equal(row.Description, 'Ready to buy 500 seats', 'the row keeps the newest version');
        assert.equal(row.Occurrences, 3, 'and counts the resend');
        assert.equal(historyOf(row).length, 1);
        assert.equal(hooksFor(v1.id).length, 2, 'created and updated; the resend calls no one');
    });

    it('sends a version after one whose call failed as an update, with its own key: the receiver may have the first', async () => {
        webhookRespond = (_, res) => json(res, 503, {});
        const t0 = Date.now();
        const v1 = leadWith('Unconfirmed', { Description: 'Just looking' }, new Date(t0));
        assert.equal(await deliverToDestination(forDestination(v1, 'webhook'), context()), 'retrying');
        webhookRespond = (_, res) => json(res, 200, {});
        const v2 = leadWith('Unconfirmed', { Description: 'Ready to buy 500 seats' }, new Date(t0 + 2000));
        assert.equal(await deliverToDestination(forDestination(v2, 'webhook'), context()), 'delivered');
        const last = hooksFor(v1.id).at(-1);
        assert.equal((JSON.parse(last?.body ?? '{}') as { event?: string }).event, 'updated');
        assert.equal(last?.headers['idempotency-key'], `${v1.id}.${v2.version}`);
        assert.equal(await deliverToDestination((await takeFrom('chain-webhook', v1.id, 1))[0], context()), 'repeat', "the first version's retry keeps away");
    });

    it('never calls a destination without idempotency again after an attempt that stopped mid-call: it is uncertain, set aside for a person', async () => {
        const lead = leadWith('Interrupted');
        const records = new DeliveryLog(TableClient.fromConnectionString(azurite.connectionString, 'LeadDeliveries', { allowInsecureConnection: true }));
        for (const destination of ['salesforce', 'webhook'] as const) {
            // What an instance killed during its call leaves: the record leased, pending, its lease run out.
            const request = { leadId: lead.id, destination, version: lead.version, receivedAt: lead.receivedAt, order: versionOrder(lead), receiptId: lead.receiptId, ticket: 1, replay: false };
            assert.equal((await records.acquire(request, 1, new Date(Date.now() - 60_000))).status, 'acquired');
        }
        const calls = salesforce.requests.length;
        assert.equal(await deliverToDestination(forDestination(lead, 'salesforce'), context()), 'uncertain');
        assert.equal(salesforce.requests.length, calls, 'Web-to-Lead is not called blind a second time');
        const record = await records.list(lead.id);
        assert.equal(record.find((r) => r.destination === 'salesforce')?.state, 'uncertain');
        const [poisoned] = await takeFrom('chain-poison', lead.id, 1);
        assert.equal(poisoned?.delivery?.destination, 'salesforce');
        assert.equal(await deliverToDestination(forDestination(lead, 'webhook'), context()), 'delivered', 'the webhook, idempotent by its key, is called again');
    });

    it('takes a row written before versions for the same lead when its content is the same: counted, not listed as updated', async () => {
        const table = await LeadsTable.connect(azurite.connectionString, 'MarketplaceLeads');
        const lead = leadWith('Preversion');
        const keys = rowKeysFor(lead.id, new Date());
        const { Version: _v, VersionAt: _at, VersionOrder: _order, ...unversioned } = leadEntity(lead, keys);
        await table.ensureTable();
        await table.client.createEntity(unversioned);
        const again = { ...lead, receiptId: `receipt-${++receipt}` };
        assert.equal(await table.record(again, keys), 'counted');
        const row = await table.row(keys);
        assert.equal(row?.Version, lead.version, 'it takes the version');
        assert.equal(row.History, undefined);
        const changed = leadWith('Preversion', { Description: 'Ready to buy' });
        assert.equal(await table.record(changed, keys), 'updated', 'a real change is still an update');
    });

    it('finds the row an attempt of an earlier version stored on an earlier day and never recorded: no second row', async () => {
        const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
        const v1 = leadWith('Earlier day', { Description: 'Just looking' }, twoDaysAgo);
        const records = new DeliveryLog(TableClient.fromConnectionString(azurite.connectionString, 'LeadDeliveries', { allowInsecureConnection: true }));
        const request = { leadId: v1.id, destination: 'table' as const, version: v1.version, receivedAt: v1.receivedAt, order: versionOrder(v1), receiptId: v1.receiptId, ticket: 1, replay: false };
        assert.equal((await records.acquire(request, 1, twoDaysAgo)).status, 'acquired');
        // The attempt stored the row, then died before writing where.
        const table = await LeadsTable.connect(azurite.connectionString, 'MarketplaceLeads');
        assert.equal(await table.insert(v1, rowKeysFor(v1.id, twoDaysAgo)), 'inserted');
        const v2 = leadWith('Earlier day', { Description: 'Ready to buy 500 seats' });
        assert.equal(await deliverToDestination(forDestination(v2, 'table'), context()), 'delivered');
        const row = await rowOf(v1.id);
        assert.equal(row.Description, 'Ready to buy 500 seats');
        assert.equal(row.partitionKey, twoDaysAgo.toISOString().slice(0, 10));
    });

    it("writes an update event that storage kept out for longer than the digest's settle window under a fresh key, so the digest still lists it", async () => {
        const table = await LeadsTable.connect(azurite.connectionString, 'MarketplaceLeads');
        const t0 = Date.now() - 20 * 60_000;
        const v1 = leadWith('Late event', { Description: 'Just looking' }, new Date(t0));
        const keys = rowKeysFor(v1.id, new Date(t0));
        await table.insert(v1, keys);
        const v2 = leadWith('Late event', { Description: 'Ready to buy 500 seats' }, new Date(t0 + 1000));
        assert.equal(await table.record(v2, keys, new Date(t0 + 1000)), 'updated');
        // The event's write failed (storage down) and the delivery is retried 20 minutes later.
        const lost = (await table.row(keys))?.LastUpdateKey ?? '';
        await table.updates.deleteEntity(lost.slice(0, 10), lost);
        const retried = new Date();
        assert.equal(await table.record(v2, keys, retried), 'already-counted');
        const events: LeadUpdateEntity[] = [];
        for await (const event of table.updates.listEntities<LeadUpdateEntity>()) if (event.LeadId === v1.id) events.push(event);
        assert.equal(events.length, 1);
        assert.ok((events[0]?.rowKey ?? '') >= retried.toISOString(), `the event sorts where the digest still reads: ${events[0]?.rowKey ?? ''}`);
        assert.equal(await table.record(v2, keys, new Date()), 'already-counted');
        let count = 0;
        for await (const event of table.updates.listEntities<LeadUpdateEntity>()) if (event.LeadId === v1.id) count++;
        assert.equal(count, 1, 'once');
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

    it('a lead replayed from the leads poison queue (never fanned out, so never stamped) is not taken for newer than the version that came after it', async () => {
        const t0 = Date.now();
        // v1 was poisoned by deliverLead an hour ago (a wrong setting, or the host's maxDequeueCount), before any fan-out stamped it.
        const v1 = leadWith('Replayed late', { Description: 'Just looking' }, new Date(t0 - 3_600_000));
        await (await JsonQueue.connect(azurite.connectionString, 'chain-poison')).send(v1);
        // Half an hour ago, the setting fixed, v2 came and was delivered.
        const v2 = leadWith('Replayed late', { Description: 'Ready to buy 500 seats' }, new Date(t0 - 1_800_000));
        assert.equal(await postThrough(v2, new Date(t0 - 1_800_000)), 'delivered');
        // Now the operator replays the poison queue, as docs/DELIVERY.md says.
        const report = await replayPoison(settings(), { includeUncertain: false, leadIds: new Set([v1.id]) });
        assert.equal(report.moved, 1);
        const [routed] = await takeTimed('chain', v1.id, 1);
        assert.ok(routed);
        await deliverLead(routed.value, new InvocationContext({ logHandler: () => undefined, triggerMetadata: { insertionTime: routed.insertedOn.toISOString() } }));
        const [link] = await takeFrom('chain-webhook', v1.id, 1);
        const result = await deliverToDestination(link, context());
        assert.equal((await rowOf(v1.id)).Description, 'Ready to buy 500 seats', 'the table keeps the newer version');
        assert.equal(result, 'repeat', 'the webhook is not sent the older version as an update');
    });

    it('an import whose file holds two versions of a lead keeps the one created last, whatever order the file lists them in', async () => {
        const newer = new Date(Date.now() - 86_400_000).toISOString();
        const older = new Date(Date.now() - 2 * 86_400_000).toISOString();
        const csv = [
            'First name,Email address,Company name,Job title,Offer name,Lead source,Action,Created',
            // Newest first, as a portal's export lists them.
            `Ada,ada+imported@contoso.example,Imported,CEO,Contoso Analytics,AzureMarketplace-INS|contoso.analytics,INS,${newer}`,
            `Ada,ada+imported@contoso.example,Imported,CTO,Contoso Analytics,AzureMarketplace-INS|contoso.analytics,INS,${older}`,
            '',
        ].join('\n');
        const storage = { kind: 'connectionString' as const, connectionString: azurite.connectionString };
        const summary = await importLeads(Readable.from([csv]), { settings: { storage, LEADS_QUEUE: 'chain', LEADS_TABLE: 'MarketplaceLeads', DELIVERIES_TABLE: 'LeadDeliveries' }, dryRun: false, concurrency: 1 });
        assert.equal(summary.rows, 2);
        assert.equal(summary.refused, 0, JSON.stringify(summary.refusals));
        const first = JSON.parse(Buffer.from((await queue('chain').peekMessages()).peekedMessageItems[0]?.messageText ?? '', 'base64').toString('utf8')) as Message;
        const messages = await takeTimed('chain', first.id, 2);
        assert.equal(messages.length, 2);
        // In a file of thousands of rows the two are enqueued seconds apart, in file order (here: one second).
        const base = messages[0]?.insertedOn.getTime() ?? 0;
        for (const [i, message] of messages.entries()) {
            await deliverLead(message.value, new InvocationContext({ logHandler: () => undefined, triggerMetadata: { insertionTime: new Date(base + i * 1000).toISOString() } }));
            const [link] = await takeFrom('chain-webhook', first.id, 1);
            await deliverToDestination(link, context());
        }
        const row = await rowOf(first.id);
        assert.equal((JSON.parse(row.CustomerInfo) as { Title: string }).Title, 'CEO', 'the row shows the version created last');
        const last = hooksFor(first.id).at(-1);
        assert.equal((JSON.parse(last?.body ?? '{}') as Lead).customer.title, 'CEO', 'and so does the webhook');
    });

    it('never posts Web-to-Lead a second lead while the first may be there: an update after an uncertain first version is set aside too', async () => {
        salesforceRespond = () => undefined;
        const t0 = Date.now();
        const v1 = leadWith('Uncertain then updated', { Description: 'Just looking' }, new Date(t0));
        assert.equal(await deliverToDestination(forDestination(v1, 'salesforce'), context()), 'uncertain');
        await takeFrom('chain-poison', v1.id, 1);
        salesforceRespond = (_, res) => res.writeHead(200).end();
        const calls = salesforce.requests.length;
        const v2 = leadWith('Uncertain then updated', { Description: 'Ready to buy 500 seats' }, new Date(t0 + 2000));
        const result = await deliverToDestination(forDestination(v2, 'salesforce'), context());
        assert.equal(salesforce.requests.length, calls, `Web-to-Lead was posted the update as a new lead (${result}): two leads in Salesforce if the first arrived`);
    });

    it('the table keeps its newest version when a version seen long ago comes back (the delivery record says repeat)', async () => {
        const t0 = Date.now() - 60_000;
        const versions = Array.from({ length: 7 }, (_, i) => leadWith('Seven versions', { Description: `version ${i + 1}` }, new Date(t0 + i * 1000)));
        for (const version of versions) assert.equal(await deliverToDestination(forDestination(version, 'table'), context()), 'delivered');
        const first = versions[0] as Lead;
        const again = { ...first, receiptId: `receipt-${++receipt}`, receivedAt: new Date(t0 + 10_000).toISOString() };
        assert.equal(await deliverToDestination(forDestination(again, 'table'), context()), 'repeat', 'the delivery record has seen version 1');
        assert.equal((await rowOf(first.id)).Description, 'version 7', 'the row is not put back to version 1');
    });

    it('Dynamics gets a version sent after one whose call failed: the record the first may have created is updated, not kept', async () => {
        const stored = new Map<string, string>();
        const dataverse = await startTestServer((request, res) => {
            const id = /leads\(([0-9a-f-]{36})\)/.exec(request.path)?.[1] ?? '';
            if (request.headers['if-none-match'] === '*' && stored.has(id)) return json(res, 412, { error: { code: '0x80060882' } });
            stored.set(id, request.body);
            return res.writeHead(204).end();
        });
        try {
            const dynamics = new DynamicsDestination(dataverse.url, { getToken: () => Promise.resolve({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) }, 1000);
            const records = new DeliveryLog(TableClient.fromConnectionString(azurite.connectionString, 'LeadDeliveries', { allowInsecureConnection: true }));
            const t0 = Date.now();
            const v1 = leadWith('Dynamics unconfirmed', { Description: 'Just looking' }, new Date(t0));
            const request = (lead: Lead) => ({
                leadId: lead.id,
                destination: 'dynamics' as const,
                version: lead.version,
                receivedAt: lead.receivedAt,
                order: versionOrder(lead),
                receiptId: lead.receiptId,
                ticket: 1,
                replay: false,
            });
            // v1's call created the record in Dataverse, then timed out before the answer: a transient failure.
            const first = await records.acquire(request(v1), 20_000);
            assert.ok(first.status === 'acquired');
            await dynamics.deliver(v1, { attempt: 1, target: undefined, mode: first.lease.mode });
            await records.fail(first.lease, new DeliveryFailure('Dynamics 365 did not answer within 1000 ms.', 'transient'), { scheduled: 2 });
            const v2 = leadWith('Dynamics unconfirmed', { Description: 'Ready to buy 500 seats' }, new Date(t0 + 2000));
            const second = await records.acquire(request(v2), 20_000);
            assert.ok(second.status === 'acquired');
            const earlierVersions = second.lease.record.seenVersions.some((seen) => seen !== v2.version);
            const outcome = await dynamics.deliver(v2, { attempt: second.lease.record.attempts, target: undefined, mode: second.lease.mode, earlierVersions });
            assert.equal(outcome.state, 'delivered');
            assert.match([...stored.values()][0] ?? '', /Ready to buy 500 seats/, `Dataverse still holds the first version, while the app records the update as delivered (mode ${second.lease.mode})`);
        } finally {
            await dataverse.close();
        }
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
