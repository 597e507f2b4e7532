import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigurationError, destinationNames, mailSettingsProblems, readIntakeSettings, readSettings } from '../../src/config/settings';
import { queueServiceClientFor, tableClientFor } from '../../src/storage/clients';

describe('settings', () => {
    it('has defaults for every setting', () => {
        const defaults = readSettings({});
        assert.deepEqual(defaults.storage, { kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' });
        assert.equal(defaults.LEADS_QUEUE, 'leads');
        assert.equal(defaults.LEADS_TABLE, 'MarketplaceLeads');
        assert.deepEqual(defaults.LEAD_DESTINATIONS, ['table']);
        assert.deepEqual(defaults.DNC_DESTINATIONS, ['table']);
        assert.equal(defaults.DELIVER_TEST_LEADS, true);
        assert.equal(readSettings({ LEADS_QUEUE: '  ' }).LEADS_QUEUE, 'leads');
    });

    it('names each bad setting and its value', () => {
        assert.throws(
            () => readSettings({ LEADS_QUEUE: 'Leads_Queue', LEADS_TABLE: '1x' }),
            (error: unknown) => error instanceof ConfigurationError && /LEADS_QUEUE is "Leads_Queue": a queue name/.test(error.message) && /LEADS_TABLE is "1x": the leads table name/.test(error.message),
        );
    });

    it('never lets a wrong alert or console setting stop deliveries: it stands at its default, and is reported', () => {
        const s = readSettings({ ALERT_TO: 'ops', ALERT_INTERVAL_MINUTES: '0', ALERT_FAILING_MINUTES: '3m', ALERTS_TABLE: 'x', CONSOLE_URL: 'not a url', NOTIFY_TO: 'sales@contoso.example' });
        assert.deepEqual([s.ALERT_TO, s.ALERT_INTERVAL_MINUTES, s.ALERT_FAILING_MINUTES, s.ALERTS_TABLE, s.CONSOLE_URL], [undefined, 30, 3, 'LeadAlerts', undefined]);
        assert.deepEqual(
            s.fallbacks.map((problem) => problem.split(' ')[0]),
            ['ALERT_TO', 'ALERT_INTERVAL_MINUTES', 'ALERT_FAILING_MINUTES', 'ALERTS_TABLE', 'CONSOLE_URL'],
        );
        assert.match(s.fallbacks[0] ?? '', /^ALERT_TO is "ops": expected an e-mail address; it stands at its default until it is fixed$/);
        assert.deepEqual(readSettings({}).fallbacks, []);
        // The console's roles and groups: a group by its id only, and the old shared list is read no more.
        const consoleSettings = readSettings({ CONSOLE_ALLOWED_ROLES: ' Leads.Read , Leads.Admin ', CONSOLE_ALLOWED_GROUPS: 'Sales', CONSOLE_ALLOWED: 'Leads.Read' });
        assert.deepEqual(consoleSettings.CONSOLE_ALLOWED_ROLES, ['Leads.Read', 'Leads.Admin']);
        assert.deepEqual(consoleSettings.CONSOLE_ALLOWED_GROUPS, []);
        assert.deepEqual(consoleSettings.fallbacks, [
            'CONSOLE_ALLOWED_GROUPS is "Sales": expected group object ids (GUIDs), separated by commas: a group is named by its id, never its name; it stands at its default until it is fixed',
            'CONSOLE_ALLOWED is no longer read: name app roles in CONSOLE_ALLOWED_ROLES and group object ids in CONSOLE_ALLOWED_GROUPS',
        ]);
        assert.deepEqual(readSettings({ CONSOLE_ALLOWED_GROUPS: '7F4C1A9E-2B1D-4C8E-9A55-0D3E6F1B2C3D' }).CONSOLE_ALLOWED_GROUPS, ['7F4C1A9E-2B1D-4C8E-9A55-0D3E6F1B2C3D']);
    });

    it("reads the circuit breaker's timings, defaults unchanged, and names a bad one with its value", () => {
        const defaults = readSettings({});
        assert.deepEqual([defaults.DELIVERY_CIRCUIT_FAILURES, defaults.DELIVERY_CIRCUIT_PAUSE_SECONDS, defaults.DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS], [5, 30, 300]);
        const short = readSettings({ DELIVERY_CIRCUIT_FAILURES: '0', DELIVERY_CIRCUIT_PAUSE_SECONDS: '1', DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS: '2.5' });
        assert.deepEqual([short.DELIVERY_CIRCUIT_FAILURES, short.DELIVERY_CIRCUIT_PAUSE_SECONDS, short.DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS], [0, 1, 2.5]);
        assert.throws(() => readSettings({ DELIVERY_CIRCUIT_FAILURES: '2.5' }), /DELIVERY_CIRCUIT_FAILURES is "2\.5": /);
        assert.throws(() => readSettings({ DELIVERY_CIRCUIT_PAUSE_SECONDS: '-1' }), /DELIVERY_CIRCUIT_PAUSE_SECONDS is "-1": /);
        assert.throws(() => readSettings({ DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS: '10' }), /DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS is "10": the longest pause cannot be shorter than DELIVERY_CIRCUIT_PAUSE_SECONDS \(30\)/);
        assert.throws(() => readSettings({ DELIVERY_CIRCUIT_PAUSE_SECONDS: '600' }), /DELIVERY_CIRCUIT_PAUSE_SECONDS is "600": the first pause cannot be longer than DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS \(300\)/);
    });

    it('leaves room for the destination and poison queues in the queue name', () => {
        assert.throws(() => readSettings({ LEADS_QUEUE: 'a'.repeat(42) }), /LEADS_QUEUE/);
        const longest = readSettings({ LEADS_QUEUE: 'a'.repeat(41) }).LEADS_QUEUE;
        for (const destination of destinationNames) assert.ok(`${longest}-${destination}-poison`.length <= 63, destination);
    });

    it('leaves room for the updates table in the leads table name', () => {
        assert.throws(() => readSettings({ LEADS_TABLE: 'A'.repeat(57) }), /LEADS_TABLE .*"Updates"/);
        assert.ok(`${readSettings({ LEADS_TABLE: 'A'.repeat(56) }).LEADS_TABLE}Updates`.length <= 63);
    });

    it('reads a connection string, locally', () => {
        const connection = 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;QueueEndpoint=http://127.0.0.1:1/devstoreaccount1';
        assert.deepEqual(readSettings({ AzureWebJobsStorage: connection }).storage, { kind: 'connectionString', connectionString: connection });
    });

    it('reads identity-based storage settings, as Azure sets them, and builds clients for the service URIs', async () => {
        const env = {
            AzureWebJobsStorage__credential: 'managedidentity',
            AzureWebJobsStorage__clientId: '00000000-0000-0000-0000-000000000001',
            AzureWebJobsStorage__blobServiceUri: 'https://contosoleads.blob.core.windows.net',
            AzureWebJobsStorage__queueServiceUri: 'https://contosoleads.queue.core.windows.net',
            AzureWebJobsStorage__tableServiceUri: 'https://contosoleads.table.core.windows.net',
        };
        const expected = {
            kind: 'identity',
            queueServiceUri: 'https://contosoleads.queue.core.windows.net',
            tableServiceUri: 'https://contosoleads.table.core.windows.net',
            clientId: '00000000-0000-0000-0000-000000000001',
            managedIdentity: true,
        };
        assert.deepEqual(readSettings(env).storage, expected);
        assert.deepEqual(readIntakeSettings(env).storage, expected);
        const queues = await queueServiceClientFor(readSettings(env).storage);
        assert.equal(queues.url, 'https://contosoleads.queue.core.windows.net');
        const table = await tableClientFor(readSettings(env).storage, 'MarketplaceLeads');
        assert.equal(table.url, 'https://contosoleads.table.core.windows.net');
        assert.deepEqual(readSettings({ AzureWebJobsStorage__accountName: 'contosoleads' }).storage, {
            kind: 'identity',
            queueServiceUri: 'https://contosoleads.queue.core.windows.net',
            tableServiceUri: 'https://contosoleads.table.core.windows.net',
            clientId: undefined,
            managedIdentity: false,
        });
        assert.throws(() => readSettings({ AzureWebJobsStorage__queueServiceUri: 'https://x.queue.core.windows.net' }), /must be set together/);
    });

    it('names the settings a chosen destination or transport needs', () => {
        assert.throws(() => readSettings({ LEAD_DESTINATIONS: 'table,hubspot' }), /HUBSPOT_TOKEN is not set: the hubspot destination needs it/);
        assert.throws(() => readSettings({ LEAD_DESTINATIONS: 'table,mailchimp' }), /LEAD_DESTINATIONS is "table,mailchimp": a destination is one of/);
        assert.deepEqual(mailSettingsProblems(readSettings({ EMAIL_TRANSPORT: 'smtp' })), ['SMTP_HOST is not set: EMAIL_TRANSPORT=smtp needs it']);
        assert.throws(() => readSettings({ NOTIFY_TO: 'ops@contoso.example; not an address' }), /NOTIFY_TO/);
        assert.deepEqual(readSettings({ NOTIFY_TO: ' ops@contoso.example ;sales@contoso.example; ' }).NOTIFY_TO, ['ops@contoso.example', 'sales@contoso.example']);
        assert.throws(
            () => readSettings({ HUBSPOT_TOKEN: 'pat-secret-value', LEAD_DESTINATIONS: 'hubspot', HUBSPOT_URL: 'not a url' }),
            (error: Error) => !error.message.includes('pat-secret'),
        );
    });

    it('never uses an unresolved Key Vault reference as a value: it fails only what reads it, naming the setting', () => {
        const reference = '@Microsoft.KeyVault(SecretUri=https://contoso-leads.vault.azure.net/secrets/hubspot-token/)';
        const s = readSettings({ LEAD_DESTINATIONS: 'table,hubspot', HUBSPOT_TOKEN: reference });
        assert.equal(s.HUBSPOT_TOKEN, undefined, 'not a token');
        assert.deepEqual(s.unresolved, ['HUBSPOT_TOKEN']);
        const smtp = readSettings({ EMAIL_TRANSPORT: 'smtp', SMTP_HOST: 'smtp.contoso.example', SMTP_PASSWORD: reference });
        assert.match(mailSettingsProblems(smtp).join(), /^SMTP_PASSWORD is an unresolved Key Vault reference: .*Key Vault Secrets User/);
        assert.deepEqual(mailSettingsProblems(readSettings({ EMAIL_TRANSPORT: 'acs', ACS_ENDPOINT: 'https://x.communication.azure.com', SMTP_PASSWORD: reference })), [], 'a setting the transport in use does not read');
        assert.throws(() => readSettings({ LEAD_ROUTES: reference }), /LEAD_ROUTES is an unresolved Key Vault reference/);
        assert.throws(() => readIntakeSettings({ LEADS_QUEUE: ` ${reference}` }), /LEADS_QUEUE is an unresolved Key Vault reference/);
    });

    it('refuses the outbox in Azure, naming EMAIL_TRANSPORT, and more recipients than ACS takes in one mail', () => {
        assert.deepEqual(mailSettingsProblems(readSettings({})), [], 'the outbox is the local default');
        for (const azure of [{ WEBSITE_SKU: 'FlexConsumption' }, { WEBSITE_INSTANCE_ID: '0f1e2d' }]) {
            assert.match(mailSettingsProblems(readSettings(azure)).join(), /^EMAIL_TRANSPORT is "outbox": .*read-only in Azure; set EMAIL_TRANSPORT to acs or smtp$/);
        }
        const many = Array.from({ length: 51 }, (_, i) => `sales${i}@contoso.example`).join(';');
        assert.match(mailSettingsProblems(readSettings({ EMAIL_TRANSPORT: 'acs', ACS_ENDPOINT: 'https://x.communication.azure.com', NOTIFY_TO: many })).join(), /NOTIFY_TO has 51 addresses/);
    });

    it('reads LEAD_ROUTES as JSON rules', () => {
        const routes = readSettings({ LEAD_ROUTES: '[{"offer":"contoso.x","destinations":["table","webhook"]}]', WEBHOOK_URL: 'https://hooks.contoso.example/leads' }).LEAD_ROUTES;
        assert.deepEqual(routes, [{ offer: 'contoso.x', destinations: ['table', 'webhook'] }]);
        assert.throws(() => readSettings({ LEAD_ROUTES: '{not json' }), /LEAD_ROUTES is "\{not json": it is not valid JSON/);
        assert.throws(() => readSettings({ LEAD_ROUTES: '[{"destinations":["table"]}]' }), /each route names an offer, an action or both/);
    });
});
