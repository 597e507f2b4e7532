import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { TableClient } from '@azure/data-tables';
import { InvocationContext } from '@azure/functions';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { checkAfterDeployment } from '../../src/check/afterDeployment';
import { checkDynamics } from '../../src/check/dynamics';
import { recordChecks } from '../../src/check/recordChecks';
import { runCheck } from '../../src/check/runChecks';
import type { CheckResult } from '../../src/check/checkResult';
import { readSettings, type Settings } from '../../src/config/settings';
import { webhookSignature } from '../../src/deliver/destinations/webhook';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { json, startTestServer, type RecordedRequest, type TestServer } from '../helpers/httpServer';
import { freePort, startApp, tempDir } from '../helpers/processes';
import { eventually } from '../helpers/queues';
import { buildRoot } from '../helpers/samples';
import { testCertificate } from '../helpers/certificate';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';

/*
 * Each destination's check against a local look-alike of the vendor's documented endpoints: their
 * paths, authentication and error shapes, and the failures a publisher meets (revoked credentials,
 * a mapped field that does not exist or cannot be written, throttling, a server that hangs). No
 * check may create anything the sales team sees, nor print a secret.
 */

let azurite: Azurite;
before(async () => {
    azurite = await startAzurite();
});
after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- before() may have failed
    await azurite?.stop();
});

function settingsWith(env: Record<string, string>): Settings {
    return readSettings({ AzureWebJobsStorage: azurite.connectionString, DELIVERY_TIMEOUT_SECONDS: '2', ...env });
}

/** A server that takes the request and never answers: the check must give up and say so. */
const hang = (): void => undefined;

async function withServer(respond: (request: RecordedRequest, res: ServerResponse) => unknown, use: (server: TestServer) => Promise<void>): Promise<void> {
    const server = await startTestServer(respond);
    try {
        await use(server);
    } finally {
        await server.close();
    }
}

function assertResult(result: CheckResult, status: CheckResult['status'], ...patterns: RegExp[]): void {
    assert.equal(result.status, status, result.summary);
    for (const pattern of patterns) assert.match(result.summary, pattern);
}

describe('hubspot check (GET /crm/v3/properties/contacts with a private-app token)', () => {
    const token = 'pat-na1-0000-secret';
    let answer: ((res: ServerResponse) => unknown) | undefined;
    const properties = ['email', 'firstname', 'lastname', 'phone', 'company', 'jobtitle', 'country'].map((name) => ({ name, type: 'string', modificationMetadata: { readOnlyValue: false } }));
    const respond = (request: RecordedRequest, res: ServerResponse): unknown => {
        if (answer) return answer(res);
        if (request.path !== '/crm/v3/properties/contacts') return json(res, 404, { status: 'error', category: 'OBJECT_NOT_FOUND' });
        if (request.headers.authorization !== `Bearer ${token}`) return json(res, 401, { status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' });
        return json(res, 200, { results: [...properties, { name: 'hs_object_id', type: 'number', modificationMetadata: { readOnlyValue: true } }] });
    };
    const check = (server: TestServer, env: Record<string, string> = {}) => runCheck('hubspot', settingsWith({ HUBSPOT_URL: server.url, HUBSPOT_TOKEN: token, ...env }));

    it('passes with the token and the built-in properties, and answers 401 and 403 with the category and the setting to fix', async () => {
        await withServer(respond, async (server) => {
            answer = undefined;
            assertResult(await check(server), 'ok', /all 7 mapped contact properties exist/);
            const revoked = await check(server, { HUBSPOT_TOKEN: 'pat-revoked' });
            assertResult(revoked, 'failing', /HubSpot answered 401/, /INVALID_AUTHENTICATION/, /HUBSPOT_TOKEN/);
            assert.doesNotMatch(revoked.summary, /pat-/);
            answer = (res) => json(res, 403, { status: 'error', message: 'This app hasn\u2019t been granted all required scopes', category: 'MISSING_SCOPES' });
            assertResult(await check(server), 'failing', /403/, /MISSING_SCOPES/, /scopes/);
        });
    });

    it('names a mapped property that does not exist, and one that is read-only', async () => {
        await withServer(respond, async (server) => {
            answer = undefined;
            assertResult(await check(server, { HUBSPOT_FIELDS: '{"marketplace_offer":"offerId"}' }), 'failing', /no contact property "marketplace_offer"/, /HUBSPOT_FIELDS/);
            assertResult(await check(server, { HUBSPOT_FIELDS: '{"hs_object_id":"offerId"}' }), 'failing', /"hs_object_id" is read-only/);
        });
    });

    it('warns on a 429, and fails in bounded time, saying so, when HubSpot hangs', async () => {
        await withServer(respond, async (server) => {
            answer = (res) => json(res, 429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', category: 'RATE_LIMITS' }, { 'retry-after': '10' });
            assertResult(await check(server), 'warning', /429/, /RATE_LIMITS/, /throttling/);
            answer = hang;
            const started = Date.now();
            assertResult(await check(server, { DELIVERY_TIMEOUT_SECONDS: '0.5' }), 'failing', /did not answer within 500 ms/);
            assert.ok(Date.now() - started < 5_000);
        });
    });
});

describe('marketo check (identity token, then GET /rest/v1/leads/describe2.json)', () => {
    let describeAnswer: ((res: ServerResponse) => unknown) | undefined;
    const fields = ['email', 'firstName', 'lastName', 'phone', 'company', 'title', 'country', 'leadSource'].map((name) => ({ name, displayName: name, dataType: 'string', updateable: true }));
    const respond = (request: RecordedRequest, res: ServerResponse): unknown => {
        const url = new URL(request.path, 'http://marketo');
        if (url.pathname === '/identity/oauth/token') {
            if (url.searchParams.get('client_secret') !== 'mkto-secret') return json(res, 401, { error: 'unauthorized', error_description: 'Bad client credentials' });
            return json(res, 200, { access_token: 'mkto-token', token_type: 'bearer', expires_in: 3599, scope: 'api@example.com' });
        }
        if (url.pathname !== '/rest/v1/leads/describe2.json') return json(res, 404, {});
        if (describeAnswer) return describeAnswer(res);
        if (request.headers.authorization !== 'Bearer mkto-token') return json(res, 200, { requestId: 'a#1', success: false, errors: [{ code: '601', message: 'Access token invalid' }] });
        return json(res, 200, { requestId: 'a#2', success: true, result: [{ name: 'API Lead', searchableFields: [['email']], fields: [...fields, { name: 'id', dataType: 'integer', updateable: false }] }] });
    };
    const check = (server: TestServer, env: Record<string, string> = {}) => runCheck('marketo', settingsWith({ MARKETO_URL: server.url, MARKETO_CLIENT_ID: 'mkto-client', MARKETO_CLIENT_SECRET: 'mkto-secret', ...env }));

    it('passes, refuses bad credentials with the OAuth code, and names a missing or read-only field', async () => {
        await withServer(respond, async (server) => {
            describeAnswer = undefined;
            assertResult(await check(server), 'ok', /all 8 mapped lead fields exist/);
            const refused = await check(server, { MARKETO_CLIENT_SECRET: 'rotated' });
            assertResult(refused, 'failing', /identity endpoint answered 401/, /"unauthorized"/, /MARKETO_CLIENT_SECRET/);
            assert.doesNotMatch(refused.summary, /rotated|mkto-secret/);
            assertResult(await check(server, { MARKETO_FIELDS: '{"marketplaceOffer__c":"offerId"}' }), 'failing', /no lead field "marketplaceOffer__c"/, /MARKETO_FIELDS/);
            assertResult(await check(server, { MARKETO_FIELDS: '{"id":"offerId"}' }), 'failing', /"id" is not updateable/);
        });
    });

    it('warns on the 606 rate limit Marketo answers in a 200, and fails on a 601', async () => {
        await withServer(respond, async (server) => {
            describeAnswer = (res) => json(res, 200, { success: false, errors: [{ code: '606', message: 'Max rate limit 100 exceeded with in 20 secs' }] });
            assertResult(await check(server), 'warning', /"606"/, /throttling/);
            describeAnswer = (res) => json(res, 200, { success: false, errors: [{ code: '601', message: 'Access token invalid' }] });
            assertResult(await check(server), 'failing', /"601"/, /MARKETO_CLIENT_ID/);
        });
    });
});

describe('salesforce-api check (client credentials, Lead describe, /limits)', () => {
    let limits = { Max: 15_000, Remaining: 14_990 };
    let externalId = true;
    let describeAnswer: ((res: ServerResponse) => unknown) | undefined;
    const standard = ['FirstName', 'LastName', 'Email', 'Phone', 'Title', 'Company', 'Country', 'Description', 'LeadSource'];
    const respond = (request: RecordedRequest, res: ServerResponse, base: string): unknown => {
        if (request.path === '/services/oauth2/token') {
            const form = new URLSearchParams(request.body);
            if (form.get('client_secret') !== 'sf-secret') return json(res, 400, { error: 'invalid_client', error_description: 'invalid client credentials' });
            return json(res, 200, { access_token: '00Dxx!session', instance_url: base, token_type: 'Bearer', issued_at: String(Date.now()) });
        }
        if (request.headers.authorization !== 'Bearer 00Dxx!session') return json(res, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
        if (request.path === '/services/data/v62.0/sobjects/Lead/describe') {
            if (describeAnswer) return describeAnswer(res);
            const fields = [
                ...standard.map((name) => ({ name, createable: true, updateable: true, externalId: false })),
                { name: 'Marketplace_Lead_Id__c', createable: true, updateable: true, externalId },
                { name: 'IsConverted', createable: false, updateable: false, externalId: false },
            ];
            return json(res, 200, { name: 'Lead', fields });
        }
        if (request.path === '/services/data/v62.0/limits') return json(res, 200, { DailyApiRequests: limits });
        return json(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    };
    const check = (server: TestServer, env: Record<string, string> = {}) =>
        runCheck(
            'salesforce-api',
            settingsWith({ SALESFORCE_DOMAIN: server.url, SALESFORCE_CLIENT_ID: 'sf-client', SALESFORCE_CLIENT_SECRET: 'sf-secret', SALESFORCE_EXTERNAL_ID_FIELD: 'Marketplace_Lead_Id__c', ...env }),
        );

    it('passes with the limits left, fails with the token code and hint, and on a field that is not an External ID, missing or read-only', async () => {
        const server: TestServer = await startTestServer((request, res) => respond(request, res, server.url));
        try {
            assertResult(await check(server), 'ok', /"Marketplace_Lead_Id__c" is an External ID/, /all 9 mapped Lead fields/, /14990 of 15000 daily API requests/);
            assertResult(await check(server, { SALESFORCE_CLIENT_SECRET: 'old' }), 'failing', /token endpoint answered 400/, /"invalid_client"/, /SALESFORCE_CLIENT_SECRET/);
            externalId = false;
            assertResult(await check(server), 'failing', /not marked External ID/, /SALESFORCE_EXTERNAL_ID_FIELD/);
            externalId = true;
            assertResult(await check(server, { SALESFORCE_FIELDS: '{"Offer__c":"offerId"}' }), 'failing', /no field "Offer__c"/, /SALESFORCE_FIELDS/);
            assertResult(await check(server, { SALESFORCE_FIELDS: '{"IsConverted":"isTest"}' }), 'failing', /cannot create or edit the Lead field "IsConverted"/);
            describeAnswer = (res) => json(res, 403, [{ errorCode: 'API_DISABLED_FOR_ORG', message: 'API is not enabled for this Organization or Partner' }]);
            assertResult(await check(server), 'failing', /403/, /API_DISABLED_FOR_ORG/);
            describeAnswer = hang;
            assertResult(await check(server, { DELIVERY_TIMEOUT_SECONDS: '0.5' }), 'failing', /Salesforce did not answer within 500 ms/);
            describeAnswer = undefined;
            limits = { Max: 15_000, Remaining: 120 };
            assertResult(await check(server), 'warning', /120 of 15000 daily API requests/);
        } finally {
            await server.close();
        }
    });
});

/** A token credential as @azure/identity's: a token, or an AuthenticationError's shape (statusCode, errorResponse with Entra's codes). */
function credential(outcome: 'token' | 'expired secret'): TokenCredential {
    return {
        getToken: (): Promise<AccessToken> => {
            if (outcome === 'token') return Promise.resolve({ token: 'dataverse-token', expiresOnTimestamp: Date.now() + 3_600_000 });
            const error = Object.assign(new Error('ClientSecretCredential authentication failed: AADSTS7000222: The provided client secret keys for app are expired.'), {
                name: 'AuthenticationError',
                statusCode: 401,
                errorResponse: { error: 'invalid_client', errorDescription: 'AADSTS7000222: The provided client secret keys are expired.', errorCodes: [7000222] },
            });
            return Promise.reject(error);
        },
    };
}

describe('dynamics check (WhoAmI, then the lead entity attributes)', () => {
    const columns = ['subject', 'firstname', 'lastname', 'emailaddress1', 'telephone1', 'companyname', 'jobtitle', 'address1_country', 'description'];
    let whoAmI: ((res: ServerResponse) => unknown) | undefined;
    const respond = (request: RecordedRequest, res: ServerResponse): unknown => {
        if (request.headers.authorization !== 'Bearer dataverse-token') return json(res, 401, { error: { code: '0x80072560', message: 'The user is not a member of the organization.' } });
        if (request.path === '/api/data/v9.2/WhoAmI') return whoAmI ? whoAmI(res) : json(res, 200, { BusinessUnitId: 'b', UserId: 'u', OrganizationId: 'o' });
        if (request.path.startsWith("/api/data/v9.2/EntityDefinitions(LogicalName='lead')/Attributes?$select=LogicalName,IsValidForCreate,IsValidForUpdate")) {
            const value = [...columns.map((LogicalName) => ({ LogicalName, IsValidForCreate: true, IsValidForUpdate: true })), { LogicalName: 'createdon', IsValidForCreate: false, IsValidForUpdate: false }];
            return json(res, 200, { value });
        }
        return json(res, 404, { error: { code: '0x8006088a', message: 'Resource not found.' } });
    };

    it('passes, and fails with Entra\u2019s codes on an expired secret, the Dataverse code on a refused user, and a missing or read-only column', async () => {
        await withServer(respond, async (server) => {
            const settingsFor = (env: Record<string, string> = {}) => settingsWith({ DYNAMICS_URL: server.url, ...env });
            const options = { post: false };
            assert.match(await checkDynamics(settingsFor(), options, credential('token')), /all 9 mapped lead columns are writable/);
            await assert.rejects(
                checkDynamics(settingsFor(), options, credential('expired secret')),
                (error: Error) => /401/.test(error.message) && /"invalid_client", "AADSTS7000222"/.test(error.message) && /DYNAMICS_CLIENT_SECRET/.test(error.message),
            );
            whoAmI = (res) => json(res, 403, { error: { code: '0x80072560', message: 'The user is not a member of the organization.' } });
            await assert.rejects(checkDynamics(settingsFor(), options, credential('token')), /answered 403 with error code "0x80072560".*application user/);
            whoAmI = undefined;
            await assert.rejects(checkDynamics(settingsFor({ DYNAMICS_FIELDS: '{"new_offerid":"offerId"}' }), options, credential('token')), /no column "new_offerid"/);
            await assert.rejects(checkDynamics(settingsFor({ DYNAMICS_FIELDS: '{"createdon":"receivedAt"}' }), options, credential('token')), /"createdon" cannot be written/);
            whoAmI = hang;
            await assert.rejects(checkDynamics(settingsFor({ DELIVERY_TIMEOUT_SECONDS: '0.5' }), options, credential('token')), /Dynamics 365 did not answer within 500 ms/);
        });
    });
});

describe('webhook check', () => {
    it('sees the receiver answer a HEAD without WEBHOOK_PING, and sends a signed ping with it', async () => {
        let status = 200;
        await withServer(
            (_request, res) => json(res, status, { ok: true }),
            async (server) => {
                const url = `${server.url}/hook`;
                assertResult(await runCheck('webhook', settingsWith({ WEBHOOK_URL: url })), 'ok', /answered \(HEAD: 200\)/);
                assert.equal(server.requests.at(-1)?.method, 'HEAD');
                assertResult(await runCheck('webhook', settingsWith({ WEBHOOK_URL: url, WEBHOOK_PING: 'true', WEBHOOK_SECRET: 'hook-secret' })), 'ok', /signed ping/);
                const ping = server.requests.at(-1);
                assert.equal(ping?.method, 'POST');
                assert.equal((JSON.parse(ping.body) as { event: string }).event, 'ping');
                assert.equal(ping.headers['x-lead-signature'], webhookSignature('hook-secret', String(ping.headers['x-lead-timestamp']), ping.body));
                status = 500;
                assertResult(await runCheck('webhook', settingsWith({ WEBHOOK_URL: url, WEBHOOK_PING: 'true' })), 'failing', /answered 500/, /ping/);
            },
        );
        assertResult(await runCheck('webhook', settingsWith({ WEBHOOK_URL: 'http://127.0.0.1:9/hook' })), 'failing', /could not be reached/, /WEBHOOK_URL/);
    });

    it('fails a receiver whose certificate this machine does not trust, naming the TLS error', async () => {
        const { key, cert } = testCertificate();
        const server = await startTestServer((_request, res) => json(res, 200, {}), { key, cert });
        try {
            assertResult(
                await runCheck('webhook', settingsWith({ WEBHOOK_URL: `${server.url}/hook` })),
                'failing',
                /could not be reached at https:\/\/localhost:\d+ \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\)/,
                /certificate/,
            );
            assert.equal(server.requests.length, 0);
        } finally {
            await server.close();
        }
    });
});

describe('salesforce (Web-to-Lead) check', () => {
    it('fails an oid that is no org id, and warns when the last 24 hours come near the 500 a day cap', async () => {
        assertResult(await runCheck('salesforce', settingsWith({ SALESFORCE_OID: 'my-org' })), 'failing', /SALESFORCE_OID is not an organisation id/);
        const settings = settingsWith({ SALESFORCE_OID: '00D5g000004ABCD', DELIVERIES_TABLE: 'CapDeliveries' });
        assertResult(await runCheck('salesforce', settings), 'ok', /0 of the 500 a day/);
        const table = TableClient.fromConnectionString(azurite.connectionString, 'CapDeliveries', { allowInsecureConnection: true });
        const now = Date.now();
        const rows = Array.from({ length: 410 }, (_, i) => ({ partitionKey: i.toString(16).padStart(32, '0'), rowKey: 'salesforce', State: 'submitted', CompletedAt: new Date(now - i * 60_000).toISOString() }));
        // One a day older, and one at another destination: neither counts.
        rows.push({ partitionKey: 'f'.repeat(32), rowKey: 'salesforce', State: 'submitted', CompletedAt: new Date(now - 25 * 3_600_000).toISOString() });
        rows.push({ partitionKey: 'e'.repeat(32), rowKey: 'webhook', State: 'delivered', CompletedAt: new Date(now).toISOString() });
        for (let i = 0; i < rows.length; i += 50) await Promise.all(rows.slice(i, i + 50).map((row) => table.createEntity(row)));
        assertResult(await runCheck('salesforce', settings), 'warning', /410 of the 500 a day/);
    });
});

describe('teams and slack checks', () => {
    it('check the URL form without posting, fail a retired Office 365 connector, and post a test message only with --post', async () => {
        const office = await runCheck('teams', settingsWith({ TEAMS_WEBHOOK_URL: 'https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456' }));
        assertResult(office, 'failing', /Office 365 connector/);
        assert.doesNotMatch(office.summary, /webhookb2|IncomingWebhook/);
        assertResult(await runCheck('slack', settingsWith({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXX' })), 'ok', /form is right/, /no lead was posted/);
        assertResult(await runCheck('slack', settingsWith({ SLACK_WEBHOOK_URL: 'https://example.com/hook' })), 'warning', /incoming-webhook URL/);
        assertResult(await runCheck('slack', settingsWith({})), 'failing', /SLACK_WEBHOOK_URL is not set/);
        await withServer(
            (_request, res) => res.writeHead(202).end(),
            async (server) => {
                const settings = settingsWith({ TEAMS_WEBHOOK_URL: `${server.url}/workflows/abc?sig=secret` });
                assertResult(await runCheck('teams', settings), 'ok', /--post sends a test message/);
                assert.equal(server.requests.length, 0);
                assertResult(await runCheck('teams', settings, true), 'ok', /took the test message \(202\)/);
                assert.match(server.requests[0]?.body ?? '', /Test message from marketplace-leads/);
            },
        );
    });
});

describe('mail check and the check alert', () => {
    let smtp: TestSmtpServer;
    before(async () => {
        smtp = await startSmtpServer();
    });
    after(async () => {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- before() may have failed
        await smtp?.close();
    });
    const mailSettings = (port: number, env: Record<string, string> = {}) =>
        settingsWith({ EMAIL_TRANSPORT: 'smtp', SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), NOTIFY_FROM: 'leads@contoso.example', ALERT_TO: 'ops@contoso.example', ...env });

    it('verifies SMTP without sending, and fails a server that does not answer', async () => {
        assertResult(await runCheck('mail', mailSettings(smtp.port)), 'ok', /took the connection; nothing was sent/);
        assert.equal(smtp.received.length, 0);
        assertResult(await runCheck('mail', mailSettings(9)), 'failing', /SMTP_HOST, SMTP_PORT and SMTP_SECURE/);
        assertResult(await runCheck('mail', settingsWith({ EMAIL_TRANSPORT: 'acs', ACS_CONNECTION_STRING: 'endpoint=https://x.communication.azure.com/' })), 'failing', /no accesskey/);
    });

    it('fails in bounded time, saying so, when the SMTP server takes the connection and never greets', async () => {
        const silent = createServer(() => undefined);
        await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
        try {
            const started = Date.now();
            const result = await runCheck('mail', mailSettings((silent.address() as AddressInfo).port, { DELIVERY_TIMEOUT_SECONDS: '0.5' }));
            // Under load the connection itself may be what times out: either way the check says so.
            assertResult(result, 'failing', /Greeting never received|Connection timeout|^Timeout/, /SMTP_HOST, SMTP_PORT and SMTP_SECURE/);
            assert.ok(Date.now() - started < 10_000);
        } finally {
            silent.close();
        }
    });

    it('a failing check records one alert per destination and cause until it recovers, mailed through SMTP', async () => {
        const settings = mailSettings(smtp.port, { ALERTS_TABLE: 'CheckAlerts', CHECKS_TABLE: 'CheckResults', ALERT_INTERVAL_MINUTES: '0.01' });
        const failing = (summary: string): CheckResult => ({ target: 'hubspot', status: 'failing', summary, checkedAt: new Date().toISOString() });
        const log: string[] = [];
        await recordChecks(settings, [failing('HubSpot answered 401 with category "INVALID_AUTHENTICATION": check HUBSPOT_TOKEN.')], (line) => log.push(line));
        await recordChecks(settings, [failing('HubSpot answered 401 with category "INVALID_AUTHENTICATION": check HUBSPOT_TOKEN.')], (line) => log.push(line));
        const alerts = TableClient.fromConnectionString(azurite.connectionString, 'CheckAlerts', { allowInsecureConnection: true });
        const events = async () => {
            const found: string[] = [];
            for await (const row of alerts.listEntities({ queryOptions: { filter: "PartitionKey eq 'check'" } })) if (row.rowKey?.startsWith('e_')) found.push(row.rowKey);
            return found;
        };
        assert.equal((await events()).length, 1, 'the same cause twice is one event');
        await recordChecks(settings, [failing('HubSpot has no contact property "marketplace_offer": create it, or fix its name in HUBSPOT_FIELDS.')], (line) => log.push(line));
        assert.equal((await events()).length, 2, 'another cause is another event');
        await recordChecks(settings, [{ ...failing(''), status: 'ok', summary: 'fine' }], (line) => log.push(line));
        await recordChecks(settings, [failing('HubSpot answered 401 with category "INVALID_AUTHENTICATION": check HUBSPOT_TOKEN.')], (line) => log.push(line));
        assert.equal((await events()).length, 3, 'after a recovery the same cause is a new event');
        assert.deepEqual(log, []);

        const { runAlerts } = await import('../../src/alert/sendAlerts');
        const { AlertStore } = await import('../../src/alert/alertStore');
        const { LeadArrivals } = await import('../../src/alert/leadArrivals');
        const { SmtpTransport } = await import('../../src/notify/transports/smtp');
        const svc = {
            settings,
            store: await AlertStore.connect(settings.storage, settings.ALERTS_TABLE),
            leads: await LeadArrivals.connect(settings.storage, settings.LEADS_TABLE),
            transport: new SmtpTransport(settings),
            consoleUrl: 'https://leads.contoso.example/api/console',
        };
        const context = { log: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Parameters<typeof runAlerts>[1];
        const report = await runAlerts(svc, context);
        assert.equal(report.events, 3);
        const mail = smtp.mails.find((m) => m.to.includes('ops@contoso.example') && /destination checks? fail/.test(m.raw));
        assert.ok(mail, 'the check alert mail');
        assert.match(mail.raw, /INVALID_AUTHENTICATION/);
        assert.match(mail.raw, /npm run leads -- check/);
    });
});

describe('after a deployment', () => {
    it('checks the destinations once per deployed package, on the first instance that starts with it, and never on a build', async () => {
        let heads = 0;
        await withServer(
            (request, res) => {
                if (request.method === 'HEAD') heads++;
                res.writeHead(200).end();
            },
            async (webhook) => {
                const s = settingsWith({ LEAD_DESTINATIONS: 'table,webhook', WEBHOOK_URL: `${webhook.url}/hook`, CHECKS_TABLE: 'DeploymentChecks' });
                const logs: string[] = [];
                const context = new InvocationContext({ logHandler: (_level, ...args: unknown[]) => logs.push(args.map(String).join(' ')) });
                // Two instances start with the new package at once, and one restarts later.
                const starts = await Promise.all([checkAfterDeployment('package-1', () => s, context), checkAfterDeployment('package-1', () => s, context)]);
                assert.deepEqual(starts.sort(), ['checked', 'claimed elsewhere']);
                assert.equal(await checkAfterDeployment('package-1', () => s, context), 'claimed elsewhere');
                assert.equal(heads, 1, 'one check of the webhook');
                assert.ok(
                    logs.some((line) => /Destination check: webhook/.test(line)),
                    logs.join('\n'),
                );
                assert.equal(await checkAfterDeployment('package-2', () => s, context), 'checked', 'the next deployment checks again');
                assert.equal(heads, 2);
                assert.equal(await checkAfterDeployment(undefined, () => s, context), 'not deployed');
            },
        );
    });
});

describe('npm run leads -- check', () => {
    it('prints one line per destination and exits 1 when one is failing, 2 for an unknown destination', async () => {
        const run = promisify(execFile);
        await withServer(
            (request, res) => (request.path === '/hook' ? json(res, 200, {}) : json(res, 401, { status: 'error', category: 'INVALID_AUTHENTICATION' })),
            async (server) => {
                const env = {
                    ...process.env,
                    AzureWebJobsStorage: azurite.connectionString,
                    LEAD_DESTINATIONS: 'table,webhook,hubspot',
                    WEBHOOK_URL: `${server.url}/hook`,
                    HUBSPOT_URL: server.url,
                    HUBSPOT_TOKEN: 'pat-secret-token',
                    EMAIL_TRANSPORT: 'outbox',
                    DELIVERY_TIMEOUT_SECONDS: '2',
                };
                const cli = join(buildRoot, 'src', 'scripts', 'leads.js');
                const args = [cli, '--settings', join(tempDir('check'), 'none.json'), 'check'];
                const exitOf = (error: unknown) => error as { code: number; stdout: string };
                const failed = await run(process.execPath, args, { env }).then(() => assert.fail('the check should exit non-zero'), exitOf);
                assert.equal(failed.code, 1);
                assert.match(failed.stdout, /^webhook +ok +/m);
                assert.match(failed.stdout, /^hubspot +failing +HubSpot answered 401/m);
                assert.doesNotMatch(failed.stdout, /pat-secret-token/);
                const only = await run(process.execPath, [...args, '--destination', 'webhook'], { env });
                assert.match(only.stdout, /^webhook +ok/m);
                assert.doesNotMatch(only.stdout, /hubspot/);
                const unknown = await run(process.execPath, [...args, '--destination', 'crm'], { env }).then(() => assert.fail('an unknown destination should exit 2'), exitOf);
                assert.equal(unknown.code, 2);
            },
        );
    });
});

describe('npm start', () => {
    it('checks the destinations once when it starts, and logs each result', async () => {
        await withServer(
            (_request, res) => json(res, 403, { status: 'error', category: 'MISSING_SCOPES' }),
            async (server) => {
                const env = {
                    AzureWebJobsStorage: azurite.connectionString,
                    'AzureWebJobs.checkDestinations.Disabled': 'false',
                    LEAD_DESTINATIONS: 'table,hubspot',
                    HUBSPOT_URL: server.url,
                    HUBSPOT_TOKEN: 'pat-start-secret',
                    CHECKS_TABLE: 'StartChecks',
                    DELIVERY_TIMEOUT_SECONDS: '2',
                };
                const lastDelivery = new Date(Date.now() - 86_400_000).toISOString();
                const deliveries = TableClient.fromConnectionString(azurite.connectionString, 'StartDeliveries', { allowInsecureConnection: true });
                await deliveries.createTable();
                await deliveries.createEntity({ partitionKey: 'a'.repeat(32), rowKey: 'hubspot', State: 'delivered', CompletedAt: lastDelivery });
                const app = await startApp({ env: { ...env, DELIVERIES_TABLE: 'StartDeliveries' }, port: await freePort() });
                try {
                    await eventually(() => (/Executed 'Functions\.checkDestinations'/.test(app.output()) ? true : undefined), 20_000, 'the start-up check');
                    assert.match(app.output(), /Checking the destinations once now/);
                    assert.match(app.output(), /Destination check: hubspot +failing +HubSpot answered 403 with category "MISSING_SCOPES"/);
                    assert.doesNotMatch(app.output(), /pat-start-secret/);
                    await eventually(async () => ((await fetch(`${app.url}/api/console`).then((r) => r.text())).includes('data-destination="hubspot"') ? true : undefined), 10_000, 'the check in the console');
                    const page = await (await fetch(`${app.url}/api/console`)).text();
                    assert.match(page, /<h2 id="destinations-title">Destinations<\/h2>/);
                    assert.match(page, /<tr data-destination="hubspot"><th scope="row" class="primary">hubspot<\/th><td class="status"><span class="state failed">failing<\/span> since <time/);
                    assert.match(page, /MISSING_SCOPES/);
                    assert.ok(page.includes(`<time datetime="${lastDelivery}"`), 'the last delivery the check found');
                } finally {
                    await app.stop();
                }
                const table = TableClient.fromConnectionString(azurite.connectionString, 'StartChecks', { allowInsecureConnection: true });
                assert.equal((await table.getEntity<{ Status: string }>('check', 'hubspot')).Status, 'failing');
            },
        );
    });
});
