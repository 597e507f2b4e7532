import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigurationError, readSettings } from '../../src/config/settings';
import type { DeliveryContext } from '../../src/deliver/destination';
import { dataverseLead } from '../../src/deliver/destinations/dynamics';
import { HubSpotDestination } from '../../src/deliver/destinations/hubspot';
import { marketoLead } from '../../src/deliver/destinations/marketo';
import { webToLeadForm } from '../../src/deliver/destinations/salesforce';
import { salesforceLead } from '../../src/deliver/destinations/salesforceApi';
import { parseLead } from '../../src/intake/parseLead';
import type { Lead } from '../../src/lead/lead';
import { mappableFields } from '../../src/lead/mappableFields';
import { json, startTestServer, type TestServer } from '../helpers/httpServer';
import { freePort, startApp } from '../helpers/processes';

const context: DeliveryContext = { attempt: 1, target: undefined, mode: 'create' };

function lead(): Lead {
    const body = {
        UserDetails: { FirstName: 'Ada', LastName: 'Lovelace', Email: 'ada@contoso.example', Company: 'Contoso', Title: 'CTO', Country: 'GB' },
        LeadSource: 'AppSource (SPZA)-PLT|contoso.contoso-analytics',
        OfferTitle: 'Contoso Analytics',
        Description: 'https://appsource.microsoft.com/x?mktcmpid=spring-launch&utm_source=newsletter',
    };
    return parseLead(JSON.stringify(body), 'json', { receivedAt: new Date('2026-11-30T10:00:00Z'), receiptId: 'r1' });
}

async function withServer(use: (server: TestServer) => Promise<void>): Promise<void> {
    const server = await startTestServer((_, res) => json(res, 201, { id: '501', properties: {} }));
    try {
        await use(server);
    } finally {
        await server.close();
    }
}

describe('CRM field mapping (<CRM>_FIELDS)', () => {
    it('HUBSPOT_FIELDS puts a constant, the offer id and a campaign value into custom properties, over the built-in ones', async () => {
        const mapping = JSON.stringify({ marketplace_offer: 'offerId', lead_channel: '=Microsoft marketplace', utm_source: 'campaign.utm_source', jobtitle: null, company: 'offerTitle' });
        await withServer(async (server) => {
            const settings = readSettings({ LEAD_DESTINATIONS: 'hubspot', HUBSPOT_TOKEN: 'pat-na1-test', HUBSPOT_URL: server.url, HUBSPOT_FIELDS: mapping });
            await HubSpotDestination.create(settings).deliver(lead(), context);
            const { properties } = JSON.parse(server.requests[0]?.body ?? '{}') as { properties: Record<string, string> };
            assert.deepEqual(properties, {
                email: 'ada@contoso.example',
                firstname: 'Ada',
                lastname: 'Lovelace',
                company: 'Contoso Analytics',
                country: 'GB',
                marketplace_offer: 'contoso-analytics',
                lead_channel: 'Microsoft marketplace',
                utm_source: 'newsletter',
            });
        });
    });

    it('maps the fields of Dynamics, both Salesforce destinations and Marketo the same way, the built-in ones kept unless overridden', () => {
        const s = readSettings({
            DYNAMICS_FIELDS: '{"leadsourcecode": "=8", "new_marketplaceofferid": "offerId", "new_campaign": "campaign.mktcmpid", "jobtitle": null}',
            SALESFORCE_FIELDS: '{"LeadSource": "=Microsoft Marketplace", "Marketplace_Offer__c": "offerId", "UTM_Source__c": "campaign.utm_source", "00N5e00000ABCDE": "campaign.mktcmpid", "oid": "=someone-else"}',
            MARKETO_FIELDS: '{"leadSource": "=Microsoft Marketplace", "marketplaceOffer": "offerId", "utmcampaign": "campaign.utm_campaign"}',
        });
        const dynamics = dataverseLead(lead(), s.DYNAMICS_FIELDS);
        assert.equal(dynamics.leadsourcecode, '8');
        assert.equal(dynamics.new_marketplaceofferid, 'contoso-analytics');
        assert.equal(dynamics.new_campaign, 'spring-launch');
        assert.equal(dynamics.jobtitle, undefined, 'null leaves a built-in field out');
        assert.equal(dynamics.emailaddress1, 'ada@contoso.example');
        const api = salesforceLead(lead(), 'create', s.SALESFORCE_FIELDS);
        assert.deepEqual([api.LeadSource, api.Marketplace_Offer__c, api.UTM_Source__c, api.LastName], ['Microsoft Marketplace', 'contoso-analytics', 'newsletter', 'Lovelace']);
        const form = webToLeadForm(lead(), '00D000000000001', s.SALESFORCE_FIELDS);
        assert.equal(form.get('00N5e00000ABCDE'), 'spring-launch');
        assert.equal(form.get('oid'), '00D000000000001', 'a mapping cannot send the lead to another org');
        assert.equal(form.get('encoding'), 'UTF-8');
        const marketo = marketoLead(lead(), s.MARKETO_FIELDS);
        assert.deepEqual([marketo.leadSource, marketo.marketplaceOffer, marketo.email], ['Microsoft Marketplace', 'contoso-analytics', 'ada@contoso.example']);
        assert.equal(marketo.utmcampaign, undefined, 'a lead field the lead has no value for is left out, as every empty field is');
    });

    it('refuses a mapping to an unknown lead field, naming the setting, the CRM field and the lead field', () => {
        assert.throws(
            () => readSettings({ HUBSPOT_FIELDS: '{"marketplace_offer": "offerName"}' }),
            (error: unknown) =>
                error instanceof ConfigurationError &&
                /HUBSPOT_FIELDS is "\{"marketplace_offer": "offerName"\}": "marketplace_offer" maps to "offerName", which is no lead field; use one of id, receivedAt, firstName/.test(error.message),
        );
        for (const [name, value, message] of [
            ['DYNAMICS_FIELDS', 'not json', /DYNAMICS_FIELDS is "not json": it is not valid JSON/],
            ['MARKETO_FIELDS', '["email"]', /MARKETO_FIELDS is .*: give a JSON object/],
            ['SALESFORCE_FIELDS', '{"Industry": 3}', /SALESFORCE_FIELDS is .*: "Industry" maps to 3, which is no lead field/],
        ] as const) {
            assert.throws(() => readSettings({ [name]: value }), message, name);
        }
        assert.ok(mappableFields.includes('campaign.mktcmpid'));
    });

    it('stops the app at start with a message naming the setting', async () => {
        const app = startApp({ env: { HUBSPOT_FIELDS: '{"x": "nope"}' }, port: await freePort() });
        await assert.rejects(app, /HUBSPOT_FIELDS is "\{"x": "nope"\}": "x" maps to "nope", which is no lead field/);
    });
});
