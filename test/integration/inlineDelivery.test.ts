import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { InvocationContext } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import { closeAllCircuits } from '../../src/deliver/circuitBreaker';
import { deliverLead } from '../../src/deliver/deliverLead';
import { deliverToDestination } from '../../src/deliver/deliverToDestination';
import { reopenInline } from '../../src/deliver/inlineGate';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { parseLead } from '../../src/intake/parseLead';
import type { Lead } from '../../src/lead/lead';
import { JsonQueue } from '../../src/queue/jsonQueue';
import { DeliveryLog } from '../../src/deliver/deliveryLog';
import { json, startTestServer, type RecordedRequest, type TestServer } from '../helpers/httpServer';
import { eventually } from '../helpers/queues';
import { withSettings } from '../helpers/settings';
import type { ServerResponse } from 'node:http';

/*
 * The fan-out calling destinations idempotent by key itself (DELIVERY_INLINE_SECONDS), and what a
 * call cut off at that budget must not do: overlap its repeat, let an older version land last,
 * spend an attempt, or take the circuit's probe. In-process, against Azurite and local look-alikes
 * of the webhook and Salesforce's REST API, as in deliveryChain.test.ts.
 */

type Message = Lead & { delivery?: { destination?: string; ticket: number; attempt: number; replay?: boolean; waited?: boolean } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let receipt = 0;

function leadWith(company: string, description?: string, receivedAt = new Date()): Lead {
    const body = {
        ...(description ? { Description: description } : {}),
        UserDetails: { FirstName: 'Ada', Email: `ada+${company.toLowerCase()}@contoso.example`, Company: company, Title: 'CTO' },
        LeadSource: 'AzureMarketplace-INS|contoso.analytics',
        OfferTitle: 'Contoso Analytics',
    };
    return parseLead(JSON.stringify(body), 'json', { receiptId: `review-receipt-${++receipt}-${Date.now()}`, receivedAt });
}

const forWebhook = (lead: Lead, ticket = 1, attempt = 1): Message => ({ ...lead, delivery: { destination: 'webhook', ticket, attempt } });

describe('the fan-out calling the webhook itself (DELIVERY_INLINE_SECONDS)', () => {
    let azurite: Azurite;
    let webhook: TestServer;
    let salesforce: TestServer;
    /** The Salesforce REST look-alike: how it answers an upsert, per lead id. */
    let upsert: (id: string, res: ServerResponse) => unknown = (_, res) => json(res, 201, { id: '00Q000000000001', success: true });
    const logs: string[] = [];
    const context = () => new InvocationContext({ logHandler: (_level, ...args: unknown[]) => logs.push(args.map(String).join(' ')) });
    /** Per lead id, how the webhook answers; default 200 at once. */
    const answers = new Map<string, (request: RecordedRequest, res: ServerResponse) => unknown>();
    const idOf = (request: RecordedRequest) => (JSON.parse(request.body) as Lead).id;
    const hooksFor = (id: string) => webhook.requests.filter((r) => idOf(r) === id);

    before(async () => {
        azurite = await startAzurite();
        webhook = await startTestServer((request, res) => (answers.get(idOf(request)) ?? ((_r: RecordedRequest, out: ServerResponse) => json(out, 200, {})))(request, res));
        salesforce = await startTestServer((request, res) => {
            if (request.path.startsWith('/services/oauth2/token')) return json(res, 200, { access_token: 'token', instance_url: salesforce.url });
            const id = decodeURIComponent(request.path.split('/').pop() ?? '');
            return upsert(id, res);
        });
        Object.assign(process.env, {
            SALESFORCE_DOMAIN: salesforce.url,
            SALESFORCE_CLIENT_ID: 'cid',
            SALESFORCE_CLIENT_SECRET: 'secret',
            SALESFORCE_EXTERNAL_ID_FIELD: 'Marketplace_Lead_Id__c',
            AzureWebJobsStorage: azurite.connectionString,
            LEADS_QUEUE: 'review',
            LEAD_DESTINATIONS: 'table,webhook',
            WEBHOOK_URL: `${webhook.url}/hook`,
            DELIVERY_MAX_ATTEMPTS: '3',
            DELIVERY_RETRY_SECONDS: '1',
            DELIVERY_TIMEOUT_SECONDS: '20',
            DELIVERY_INLINE_SECONDS: '5',
            DELIVERY_CIRCUIT_FAILURES: '2',
            DELIVERY_CIRCUIT_PAUSE_SECONDS: '1',
            DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS: '2',
        });
    });

    /** Answers once the test lets it (if the caller is still there): a receiver that holds the call. */
    const held: Array<() => void> = [];
    const hold = (_: RecordedRequest, res: ServerResponse) =>
        new Promise<void>((resolve) => held.push(resolve)).then(() => {
            if (!res.destroyed) json(res, 200, {});
        });
    const releaseHeld = () => held.splice(0).forEach((resolve) => resolve());

    beforeEach(() => {
        closeAllCircuits();
        reopenInline();
    });

    afterEach(releaseHeld);

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await webhook?.close();
        await salesforce?.close();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    /**
     * Takes the lead's messages off a destination's queue as they become visible and delivers each,
     * as that destination's function would, until its record there is final and, if given, has
     * `version` delivered; returns each attempt's result in order.
     */
    async function settle(destination: string, leadId: string, version?: string): Promise<string[]> {
        const results: string[] = [];
        const log = await DeliveryLog.connect(azurite.connectionString, 'LeadDeliveries');
        const client = new QueueClient(azurite.connectionString, `review-${destination}`);
        await eventually(
            async () => {
                if (await client.exists()) {
                    const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 1 });
                    for (const item of receivedMessageItems) {
                        const value = JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')) as Message;
                        if (value.id !== leadId) continue;
                        await client.deleteMessage(item.messageId, item.popReceipt);
                        results.push(await deliverToDestination(value, context()));
                    }
                }
                const record = await log.get(leadId, destination);
                const final = record !== undefined && !['pending', 'failed'].includes(record.state);
                return final && (version === undefined || record.deliveredVersion === version) ? true : undefined;
            },
            45_000,
            `lead ${leadId} to be delivered at ${destination}`,
        );
        return results;
    }

    it('keeps one probe out at a time: an inline call cut off at the budget does not release the probe another delivery holds', async () => {
        const slow = leadWith('Slow inline');
        const probe = leadWith('Probe');
        const second = leadWith('Second probe');
        const down = [leadWith('Down one'), leadWith('Down two')];
        answers.set(slow.id, hold);
        answers.set(probe.id, hold);
        for (const lead of down) answers.set(lead.id, (_, res) => json(res, 503, {}));
        // The fan-out calls the webhook for `slow` while its circuit is closed: an ordinary admission.
        const fanOut = deliverLead(slow, context());
        await eventually(() => (hooksFor(slow.id).length > 0 ? true : undefined), 10_000, 'the inline call to reach the webhook');
        // Meanwhile two leads fail from the webhook's queue: its circuit opens for 1 s.
        for (const lead of down) assert.equal(await deliverToDestination(forWebhook(lead), context()), 'retrying');
        assert.ok(
            logs.some((line) => /webhook destination's circuit is open/.test(line)),
            'the circuit opened',
        );
        await sleep(1200);
        // One lead probes; it is still out when the fan-out's call is cut off.
        const probing = deliverToDestination(forWebhook(probe), context());
        await eventually(() => (hooksFor(probe.id).length > 0 ? true : undefined), 10_000, 'the probe to reach the webhook');
        await fanOut;
        assert.ok(
            logs.some((line) => line.includes(`Lead ${slow.id}`) && line.includes('webhook=handed-off')),
            'the fan-out cut its call off after the probe was admitted (if not, this run shows nothing)',
        );
        // The probe is still out: another lead must wait, not probe a second time.
        const result = await deliverToDestination(forWebhook(second), context());
        assert.equal(hooksFor(second.id).length, 0, 'a second probe reached the webhook while the first was still out');
        assert.equal(result, 'waiting');
        releaseHeld();
        await probing;
    });

    it('never has two calls of one lead at the webhook at once: the repeat of a call cut off at the budget waits until any call may have ended there', async () => {
        const lead = leadWith('Overlap');
        let inFlight = 0;
        let mostAtOnce = 0;
        // A receiver goes on with a request whose client hung up (an HTTP server is not told to stop):
        // the first call takes 2.5 s there, past the fan-out's budget, within the 3 s any call may take.
        answers.set(lead.id, async (_, res) => {
            inFlight++;
            mostAtOnce = Math.max(mostAtOnce, inFlight);
            if (hooksFor(lead.id).length === 1) await sleep(2500);
            inFlight--;
            if (!res.destroyed) json(res, 200, {});
        });
        await withSettings({ DELIVERY_INLINE_SECONDS: 1, DELIVERY_TIMEOUT_SECONDS: 3 }, async () => {
            await deliverLead(lead, context());
            assert.ok(logs.some((line) => line.includes(`Lead ${lead.id}`) && line.includes('webhook=handed-off')));
            assert.ok((await settle('webhook', lead.id)).includes('delivered'));
            assert.equal(hooksFor(lead.id).length, 2);
            assert.equal(new Set(hooksFor(lead.id).map((h) => h.headers['idempotency-key'])).size, 1, 'both calls carried one key');
            assert.equal(mostAtOnce, 1, 'the repeat reached the webhook while the call cut off at DELIVERY_INLINE_SECONDS was still being processed there');
        });
    });

    it('does not poison, with DELIVERY_MAX_ATTEMPTS=1, a lead Salesforce has: the hand-off repeat finds the cut-off upsert still being saved (DUPLICATE_VALUE)', async () => {
        const lead = leadWith('Salesforce slow');
        // A Unique external id field: an upsert of an id whose first upsert is still being saved
        // answers DUPLICATE_VALUE (see transientCodes in salesforceApi.ts); that first one takes 4 s,
        // within the 5 s any call may take.
        const saving = new Set<string>();
        const saved = new Set<string>();
        upsert = async (id, res) => {
            if (saving.has(id)) return json(res, 400, [{ errorCode: 'DUPLICATE_VALUE', message: 'duplicate value found', fields: [] }]);
            if (saved.has(id)) return json(res, 200, { id: '00Q000000000001', success: true, created: false });
            saving.add(id);
            await sleep(4000);
            saving.delete(id);
            saved.add(id);
            if (!res.destroyed) json(res, 201, { id: '00Q000000000001', success: true, created: true });
        };
        await withSettings({ DELIVERY_INLINE_SECONDS: 1, DELIVERY_MAX_ATTEMPTS: 1, LEAD_DESTINATIONS: ['table', 'salesforce-api'], DELIVERY_TIMEOUT_SECONDS: 5 }, async () => {
            await deliverLead(lead, context());
            assert.ok(logs.some((line) => line.includes(`Lead ${lead.id}`) && line.includes('salesforce-api=handed-off')));
            const results = await settle('salesforce-api', lead.id);
            assert.ok(saved.has(lead.id), 'Salesforce has the lead');
            assert.deepEqual(results, ['delivered'], 'one more call, after the cut-off upsert was saved');
        });
    });

    it('keeps queueing a destination that kept the fan-out past its budget when its next delivery is a fast failure, not a fast answer (503 in a few ms)', async () => {
        const [hanging, failing, next] = [leadWith('Gate hanging'), leadWith('Gate failing'), leadWith('Gate next')];
        answers.set(hanging.id, hold);
        answers.set(next.id, hold);
        answers.set(failing.id, (_, res) => json(res, 503, {}));
        const fanOutResult = (id: string) => /webhook=([a-z-]+)/.exec(logs.find((line) => line.startsWith(`Lead ${id} (version`)) ?? '')?.[1];
        await withSettings({ DELIVERY_INLINE_SECONDS: 1 }, async () => {
            await deliverLead(hanging, context());
            assert.equal(fanOutResult(hanging.id), 'handed-off');
            // From the webhook's queue, another lead fails at once: the webhook is still not answering leads.
            assert.equal(await deliverToDestination(forWebhook(failing), context()), 'retrying');
            await deliverLead(next, context());
            assert.equal(fanOutResult(next.id), 'queued', 'a 503 reopened the gate: the fan-out was held on the hanging webhook a second time');
        });
    });

    it("pins: a storage error sending the hand-off leaves the lease held, and the fan-out's retry delivers the lead once", async () => {
        const lead = leadWith('Hand-off storage error');
        let slow = true;
        answers.set(lead.id, async (_, res) => {
            if (slow) await sleep(1500);
            if (!res.destroyed) json(res, 200, {});
        });
        // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was, and called with its queue as `this`
        const send = JsonQueue.prototype.send;
        let failed = 0;
        JsonQueue.prototype.send = function (this: JsonQueue, ...args: Parameters<JsonQueue['send']>) {
            if (this.name === 'review-webhook' && failed === 0) {
                failed++;
                return Promise.reject(new Error('storage down'));
            }
            return send.apply(this, args);
        };
        try {
            await withSettings({ DELIVERY_INLINE_SECONDS: 1, DELIVERY_TIMEOUT_SECONDS: 2 }, async () => {
                await assert.rejects(deliverLead(lead, context()), /storage down/);
                const log = await DeliveryLog.connect(azurite.connectionString, 'LeadDeliveries');
                assert.equal((await log.get(lead.id, 'webhook'))?.state, 'pending', 'held while the cut-off call may go on');
                slow = false;
                // The host retries the fan-out: the gate is closed, so the webhook's lead goes to its queue.
                await deliverLead(lead, context());
                assert.ok((await settle('webhook', lead.id)).includes('delivered'));
                await sleep(1000);
                assert.equal(hooksFor(lead.id).length, 2, 'the cut-off call and its one repeat');
            });
        } finally {
            JsonQueue.prototype.send = send;
        }
    });

    it("pins: a copy of the fan-out message taken while the first copy's inline call is in flight waits (busy), and only one more call follows the cut-off one", async () => {
        const lead = leadWith('Redelivered fan-out');
        let slow = true;
        answers.set(lead.id, async (_, res) => {
            if (slow) await sleep(4000);
            if (!res.destroyed) json(res, 200, {});
        });
        await withSettings({ DELIVERY_INLINE_SECONDS: 2, DELIVERY_TIMEOUT_SECONDS: 5 }, async () => {
            const first = deliverLead(lead, context());
            await eventually(() => (hooksFor(lead.id).length > 0 ? true : undefined), 10_000, 'the first copy to call the webhook');
            // The same message again (the host redelivered it; another instance takes it).
            await deliverLead(lead, context());
            assert.ok(logs.some((line) => line.includes(`Lead ${lead.id}`) && line.includes('webhook=busy')));
            await first;
            slow = false;
            const results = await settle('webhook', lead.id);
            assert.equal(results.filter((result) => result === 'delivered').length, 1);
            assert.equal(hooksFor(lead.id).length, 2, 'the cut-off call and one repeat');
        });
    });

    it('never leaves the webhook with an older version over a newer one: v1 cut off at the budget is still being processed there when v2 comes', async () => {
        const t0 = Date.now();
        const v1 = leadWith('Versions overlap', 'Just looking', new Date(t0));
        const v2 = leadWith('Versions overlap', 'Ready to buy 500 seats', new Date(t0 + 2000));
        assert.equal(v1.id, v2.id);
        assert.notEqual(v1.version, v2.version);
        // The receiver keeps the body of the request it finished last. v1 is slow there (a lock, a busy
        // worker): it finishes once v2 has, or after 2.5 s, within the 3 s any call may take.
        let kept: string | undefined;
        let v2Kept: () => void = () => undefined;
        const v2Done = new Promise<void>((resolve) => (v2Kept = resolve));
        answers.set(v1.id, async (request, res) => {
            const { description } = JSON.parse(request.body) as Lead;
            if (description === 'Just looking') await Promise.race([v2Done, sleep(2500)]);
            kept = description;
            if (description !== 'Just looking') v2Kept();
            if (!res.destroyed) json(res, 200, {});
        });
        const fanOut = (lead: Lead, at: number) =>
            deliverLead(lead, new InvocationContext({ logHandler: (_level, ...args: unknown[]) => logs.push(args.map(String).join(' ')), triggerMetadata: { insertionTime: new Date(at).toISOString() } }));
        try {
            await withSettings({ DELIVERY_INLINE_SECONDS: 1, DELIVERY_TIMEOUT_SECONDS: 3 }, async () => {
                await fanOut(v1, t0);
                await fanOut(v2, t0 + 2000);
                // On the webhook's queue: v1's hand-off, after the time any call may take, and v2 (the gate queues it).
                await settle('webhook', v1.id, v2.version);
                await sleep(500);
                assert.equal(kept, 'Ready to buy 500 seats', 'the receiver finished the cut-off v1 after v2: it holds the older version, while the delivery record says v2 is delivered');
            });
        } finally {
            v2Kept();
        }
    });
});
