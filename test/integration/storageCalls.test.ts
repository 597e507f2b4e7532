import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { json, startTestServer, type TestServer } from '../helpers/httpServer';
import { measureLeadCost } from '../helpers/leadCost';

/*
 * What a lead costs in storage requests, counted by a proxy in front of Azurite. These counts are
 * exact and the same on every machine: a change that adds a request per lead fails here, and
 * should say why in docs/PERFORMANCE.md when it updates the numbers.
 */
describe('storage requests per lead, counted in front of Azurite', () => {
    let azurite: Azurite;
    let webhook: TestServer;
    const leads = 16;

    before(async () => {
        azurite = await startAzurite();
        webhook = await startTestServer((_, res) => json(res, 200, { ok: true }));
    });

    after(async () => {
        await webhook.close();
        await azurite.stop();
    });

    it('costs six requests per lead on the default route, plus one receive per batch and one notification run', async () => {
        const cost = await measureLeadCost(azurite, { leads, destinations: ['table'] });
        assert.deepEqual(cost.intake.work, { 'queue.send leads': leads });
        assert.deepEqual(cost.delivery.work, {
            'queue.delete leads': leads,
            // batchSize 16 in host.json: the waiting leads come in one receive.
            'queue.receive leads': 1,
            // The lease on the lead's delivery record, the row and its address in the e-mail index, and the record's outcome.
            'table.insert LeadDeliveries': leads,
            'table.insert MarketplaceLeads': leads,
            'table.insert MarketplaceLeadsEmails': leads,
            'table.merge LeadDeliveries': leads,
        });
        // One run for all the leads: claim, kept digests, the new rows (and updates), the digest written down, sent, the cursor, release.
        assert.deepEqual(cost.notify.work, {
            'table.insert LeadNotifications': 1,
            'table.merge LeadNotifications': 1,
            'table.query LeadNotifications': 1,
            'table.query MarketplaceLeads': 1,
            'table.query MarketplaceLeadsUpdates': 1,
            'table.read LeadNotifications': 1,
            'table.replace LeadNotifications': 3,
        });
        assert.equal(cost.callsPerLead, 6 + (1 + 9) / leads);
    });

    /** The default route's requests, and the webhook's lease and outcome beside the table's. */
    const withWebhookRecord = {
        'queue.delete leads': leads,
        'queue.receive leads': 1,
        'table.insert LeadDeliveries': 2 * leads,
        'table.insert MarketplaceLeads': leads,
        'table.insert MarketplaceLeadsEmails': leads,
        'table.merge LeadDeliveries': 2 * leads,
    };

    it('costs two more requests per lead for a destination idempotent by key, which the fan-out calls itself: its lease and outcome', async () => {
        const cost = await measureLeadCost(azurite, { leads, destinations: ['table', 'webhook'], env: { WEBHOOK_URL: `${webhook.url}/leads` } });
        assert.deepEqual(cost.delivery.work, withWebhookRecord);
        assert.equal(cost.callsPerLead, 8 + (1 + 9) / leads);
    });

    it('costs four more requests per lead for a destination behind its own queue: with DELIVERY_INLINE_SECONDS=0, the message, its receive and delete, the lease and outcome', async () => {
        const cost = await measureLeadCost(azurite, { leads, destinations: ['table', 'webhook'], env: { WEBHOOK_URL: `${webhook.url}/leads`, DELIVERY_INLINE_SECONDS: '0' } });
        assert.deepEqual(cost.delivery.work, {
            ...withWebhookRecord,
            'queue.send leads-webhook': leads,
            'queue.receive leads-webhook': 1,
            'queue.delete leads-webhook': leads,
        });
    });
});
