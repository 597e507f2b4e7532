import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSettings } from '../../src/config/settings';
import { destinationsFor } from '../../src/deliver/routing';
import { parseLead } from '../../src/intake/parseLead';

const lead = (leadSource: string, email = 'ada@contoso.example') =>
    parseLead(JSON.stringify({ UserDetails: { Email: email }, LeadSource: leadSource, OfferTitle: 'Contoso Analytics' }), 'json', { receivedAt: new Date(), receiptId: 'r' });

const settings = (env: Record<string, string>) => readSettings({ HUBSPOT_TOKEN: 'x', WEBHOOK_URL: 'https://hooks.contoso.example', ...env });

describe('routing', () => {
    it('uses the first matching route, by offer id, offer title or action, else LEAD_DESTINATIONS', () => {
        const s = settings({
            LEAD_DESTINATIONS: 'table',
            LEAD_ROUTES: JSON.stringify([
                { offer: 'CONTOSO.ANALYTICS', action: 'PLT', destinations: ['table', 'hubspot'] },
                { offer: 'Contoso Analytics', destinations: ['webhook'] },
            ]),
        });
        assert.deepEqual(destinationsFor(lead('AppSource (SPZA)-PLT|contoso.analytics'), s), ['table', 'hubspot']);
        assert.deepEqual(destinationsFor(lead('AzureMarketplace-INS|contoso.analytics'), s), ['webhook']);
        assert.deepEqual(destinationsFor({ ...lead('AzureMarketplace-INS|fabrikam.crm'), offerTitle: 'Fabrikam' }, s), ['table']);
    });

    it('keeps a DNC lead, for the record, even when its route has no table', () => {
        const s = settings({ LEAD_DESTINATIONS: 'hubspot' });
        assert.deepEqual(destinationsFor(lead('AzureMarketplace-DNC|contoso.analytics'), s), ['table']);
        assert.deepEqual(destinationsFor(lead('AzureMarketplace-DNC|contoso.analytics'), settings({ LEAD_DESTINATIONS: 'hubspot', DNC_DESTINATIONS: 'table,webhook' })), ['table', 'webhook']);
    });

    it('sends test leads everywhere, or to the table only when DELIVER_TEST_LEADS is false', () => {
        const test = lead('MSFT_TEST_1-MSFT_TEST_1|<Offer Name>', 'MSFT_TEST_1@test.com');
        assert.deepEqual(destinationsFor(test, settings({ LEAD_DESTINATIONS: 'hubspot,webhook' })), ['hubspot', 'webhook']);
        assert.deepEqual(destinationsFor(test, settings({ LEAD_DESTINATIONS: 'hubspot,webhook', DELIVER_TEST_LEADS: 'false' })), ['table']);
    });
});
