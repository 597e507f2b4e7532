import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { destinationNames } from '../../src/config/destinationNames';
import { destinationsToRegister } from '../../src/config/registeredDestinations';
import { readSettings } from '../../src/config/settings';
import { destinationsFor, routedDestinations, type RoutedLead } from '../../src/deliver/routing';

const needed = { WEBHOOK_URL: 'https://hooks.contoso.example', HUBSPOT_TOKEN: 'x', SLACK_WEBHOOK_URL: 'https://hooks.slack.example/x' };

const kinds: RoutedLead[] = [
    { offer: 'contoso.analytics', offerId: 'analytics', offerTitle: 'Contoso Analytics', action: 'PLT', doNotContact: false, isTest: false },
    { offer: 'fabrikam.crm', offerId: 'crm', offerTitle: 'Fabrikam', action: 'INS', doNotContact: false, isTest: false },
    { offer: 'contoso.analytics', offerId: 'analytics', offerTitle: 'Contoso Analytics', action: 'DNC', doNotContact: true, isTest: false },
    { offer: 'contoso.analytics', offerId: 'analytics', offerTitle: 'Contoso Analytics', action: 'PLT', doNotContact: false, isTest: true },
];

describe('the destinations whose queue trigger is registered', () => {
    it('are the table alone by default, and those LEAD_DESTINATIONS, a route or DNC_DESTINATIONS names', () => {
        assert.deepEqual(destinationsToRegister({}), ['table']);
        assert.deepEqual(destinationsToRegister({ LEAD_DESTINATIONS: ' Table, webhook ' }), ['table', 'webhook']);
        assert.deepEqual(destinationsToRegister({ LEAD_DESTINATIONS: 'hubspot', DNC_DESTINATIONS: 'webhook' }), ['webhook', 'hubspot']);
        assert.deepEqual(destinationsToRegister({ LEAD_DESTINATIONS: '', LEAD_ROUTES: JSON.stringify([{ offer: 'contoso.analytics', destinations: ['slack', 'hubspot'] }]) }), ['table', 'hubspot', 'slack']);
    });

    it('include the table when test leads are held back for it', () => {
        assert.deepEqual(destinationsToRegister({ LEAD_DESTINATIONS: 'hubspot', DNC_DESTINATIONS: 'hubspot' }), ['hubspot']);
        assert.deepEqual(destinationsToRegister({ LEAD_DESTINATIONS: 'hubspot', DNC_DESTINATIONS: 'hubspot', DELIVER_TEST_LEADS: 'false' }), ['table', 'hubspot']);
    });

    it('are every destination when a routing setting cannot be read, so that no routed lead waits on a queue nothing drains', () => {
        for (const env of [
            { LEAD_DESTINATIONS: 'table,webhok' },
            { LEAD_DESTINATIONS: '@Microsoft.KeyVault(SecretUri=https://vault.example/secrets/d)' },
            { LEAD_ROUTES: '[{"offer":"x","destinations":["table"]' },
            { LEAD_ROUTES: '{"offer":"x"}' },
            { LEAD_ROUTES: '[{"offer":"x","destinations":"table"}]' },
            { LEAD_ROUTES: '[{"offer":"x","destinations":["crm"]}]' },
            { DNC_DESTINATIONS: 'nowhere' },
        ]) {
            assert.deepEqual(destinationsToRegister(env), destinationNames, JSON.stringify(env));
        }
    });

    it('are those the parsed settings route to, and cover every destination routing sends a lead to, for settings the schema accepts', () => {
        const cases: Record<string, string>[] = [
            {},
            { LEAD_DESTINATIONS: 'table,webhook' },
            { LEAD_DESTINATIONS: 'hubspot', DNC_DESTINATIONS: 'hubspot', DELIVER_TEST_LEADS: 'no' },
            { LEAD_DESTINATIONS: 'webhook', DNC_DESTINATIONS: 'webhook,slack', LEAD_ROUTES: JSON.stringify([{ offer: 'Contoso Analytics', action: 'PLT', destinations: ['hubspot,slack'] }]) },
        ];
        for (const env of cases) {
            const registered = destinationsToRegister(env);
            const settings = readSettings({ ...needed, ...env });
            assert.deepEqual(new Set(registered), routedDestinations(settings), 'read without the schema, as with it');
            for (const lead of kinds) {
                for (const destination of destinationsFor(lead, settings)) assert.ok(registered.includes(destination), `${destination} for ${JSON.stringify(env)}`);
            }
        }
    });
});
