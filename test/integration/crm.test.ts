import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { readSettings } from '../../src/config/settings';
import { DeliveryFailure, type DeliveryContext, type DeliveryOutcome, type Destination } from '../../src/deliver/destination';
import { HubSpotDestination } from '../../src/deliver/destinations/hubspot';
import { MarketoDestination } from '../../src/deliver/destinations/marketo';
import { SalesforceDestination } from '../../src/deliver/destinations/salesforce';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { parseLead } from '../../src/intake/parseLead';
import type { Lead } from '../../src/lead/lead';
import type { ServerResponse } from 'node:http';
import { json, startTestServer, type RecordedRequest, type Responder, type TestServer } from '../helpers/httpServer';
import { freePort, postLead, startApp, type RunningApp } from '../helpers/processes';
import { eventually } from '../helpers/queues';
import { testCertificate } from '../helpers/certificate';

const context: DeliveryContext = { attempt: 1, target: undefined, mode: 'create' };

function lead(overrides: Record<string, unknown> = {}): Lead {
    const body = {
        UserDetails: { FirstName: 'Ada', LastName: 'Lovelace', Email: 'ada@contoso.example', Phone: '+44 20 7946 0000', Company: 'Contoso', Title: 'CTO', Country: 'GB' },
        LeadSource: 'AppSource (SPZA)-PLT|contoso.analytics',
        OfferTitle: 'Contoso Analytics',
        Description: 'Call me',
        ...overrides,
    };
    return parseLead(JSON.stringify(body), 'json', { receivedAt: new Date(), receiptId: 'r1' });
}

async function failureOf(run: Promise<DeliveryOutcome>): Promise<DeliveryFailure> {
    try {
        await run;
    } catch (error) {
        if (error instanceof DeliveryFailure) return error;
        throw error;
    }
    assert.fail('expected a DeliveryFailure');
}

async function withServer(respond: Responder, use: (server: TestServer) => Promise<void>): Promise<void> {
    const server = await startTestServer(respond);
    try {
        await use(server);
    } finally {
        await server.close();
    }
}

describe('HubSpot (CRM v3 contacts, private-app token)', () => {
    const make = (url: string): Destination => HubSpotDestination.create(readSettings({ LEAD_DESTINATIONS: 'hubspot', HUBSPOT_TOKEN: 'pat-na1-test', HUBSPOT_URL: url, DELIVERY_TIMEOUT_SECONDS: '0.5' }));

    it('creates the contact with a Bearer token and the standard properties', async () => {
        await withServer(
            (_, res) => json(res, 201, { id: '501', properties: {} }),
            async (server) => {
                const outcome = await make(server.url).deliver(lead(), context);
                assert.deepEqual(outcome, { state: 'delivered', target: 'contact 501' });
                const [request] = server.requests;
                assert.equal(request?.method, 'POST');
                assert.equal(request.path, '/crm/v3/objects/contacts');
                assert.equal(request.headers.authorization, 'Bearer pat-na1-test');
                assert.deepEqual(JSON.parse(request.body), {
                    properties: { email: 'ada@contoso.example', firstname: 'Ada', lastname: 'Lovelace', phone: '+44 20 7946 0000', company: 'Contoso', jobtitle: 'CTO', country: 'GB' },
                });
            },
        );
    });

    it('updates the contact by e-mail when create answers 409', async () => {
        const respond: Responder = (request, res) =>
            request.method === 'POST' ? json(res, 409, { status: 'error', message: 'Contact already exists. Existing ID: 501', category: 'CONFLICT' }) : json(res, 200, { id: '501', properties: {} });
        await withServer(respond, async (server) => {
            const outcome = await make(server.url).deliver(lead(), context);
            assert.equal(outcome.state, 'delivered');
            assert.equal(server.requests[1]?.method, 'PATCH');
            assert.equal(server.requests[1].path, '/crm/v3/objects/contacts/ada%40contoso.example?idProperty=email');
        });
    });

    it('tells transient failures (429 with Retry-After, 500, a hang) from permanent ones (401, 400), never quoting the body', async () => {
        const cases: [Responder, 'transient' | 'permanent', RegExp][] = [
            [(_, res) => json(res, 429, { status: 'error', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' }, { 'retry-after': '10' }), 'transient', /429/],
            [(_, res) => json(res, 500, { status: 'error', message: 'internal error' }), 'transient', /500/],
            [() => undefined, 'transient', /did not answer within 500 ms/],
            [(_, res) => json(res, 401, { status: 'error', category: 'INVALID_AUTHENTICATION' }), 'permanent', /401/],
            [(_, res) => json(res, 400, { status: 'error', message: 'Property values were not valid: ada@contoso.example' }), 'permanent', /^HubSpot answered 400\.$/],
        ];
        for (const [respond, kind, message] of cases) {
            await withServer(respond, async (server) => {
                const failure = await failureOf(make(server.url).deliver(lead(), context));
                assert.equal(failure.kind, kind, failure.message);
                assert.match(failure.message, message);
                assert.doesNotMatch(failure.message, /ada@contoso|not valid/);
            });
        }
        await withServer(
            (_, res) => json(res, 429, {}, { 'retry-after': '10' }),
            async (server) => {
                assert.equal((await failureOf(make(server.url).deliver(lead(), context))).retryAfterMs, 10_000);
            },
        );
    });

    it('skips a lead without an e-mail, which it cannot upsert', async () => {
        const outcome = await make('http://127.0.0.1:9').deliver(lead({ UserDetails: { FirstName: 'Edu' } }), context);
        assert.equal(outcome.state, 'skipped');
    });
});

describe('Marketo (REST leads.json, OAuth client credentials)', () => {
    const make = (url: string): Destination =>
        MarketoDestination.create(readSettings({ LEAD_DESTINATIONS: 'marketo', MARKETO_URL: url, MARKETO_CLIENT_ID: 'cid', MARKETO_CLIENT_SECRET: 'csecret', DELIVERY_TIMEOUT_SECONDS: '0.5' }));

    /** A Marketo instance: tokens from /identity/oauth/token, and leads.json answering as `sync` says. */
    function marketo(sync: (token: string, call: number) => [number, unknown]): Responder {
        let tokens = 0;
        let calls = 0;
        return (request, res) => {
            if (request.path.startsWith('/identity/oauth/token')) {
                const query = new URL(request.path, 'http://x').searchParams;
                if (query.get('client_id') !== 'cid' || query.get('client_secret') !== 'csecret' || query.get('grant_type') !== 'client_credentials') {
                    return json(res, 401, { error: 'invalid_client', error_description: 'Bad client credentials' });
                }
                tokens++;
                return json(res, 200, { access_token: `token-${tokens}:ab`, token_type: 'bearer', expires_in: 3599, scope: 'api@contoso.example' });
            }
            if (request.method === 'POST' && request.path === '/rest/v1/leads.json') {
                const [status, body] = sync(String(request.headers.authorization), ++calls);
                return json(res, status, body);
            }
            json(res, 404, {});
        };
    }

    it('gets a token once, caches it, and syncs with createOrUpdate looked up by e-mail', async () => {
        await withServer(
            marketo(() => [200, { requestId: 'r#1', success: true, result: [{ id: 318581, status: 'created' }] }]),
            async (server) => {
                const destination = make(server.url);
                assert.deepEqual(await destination.deliver(lead(), context), { state: 'delivered', target: 'lead 318581' });
                await destination.deliver(lead(), context);
                const tokenCalls = server.requests.filter((r) => r.path.startsWith('/identity/'));
                assert.equal(tokenCalls.length, 1);
                const sync = server.requests.find((r) => r.path === '/rest/v1/leads.json');
                assert.equal(sync?.headers.authorization, 'Bearer token-1:ab');
                assert.deepEqual(JSON.parse(sync.body), {
                    action: 'createOrUpdate',
                    lookupField: 'email',
                    input: [{ email: 'ada@contoso.example', firstName: 'Ada', lastName: 'Lovelace', phone: '+44 20 7946 0000', company: 'Contoso', title: 'CTO', country: 'GB', leadSource: 'AppSource (SPZA)' }],
                });
            },
        );
    });

    it('refreshes an expired token once: code 602 in a 200 body, or an HTTP 401', async () => {
        const expired = marketo((token) =>
            token === 'Bearer token-1:ab' ? [200, { requestId: 'r', success: false, errors: [{ code: '602', message: 'Access token expired' }] }] : [200, { success: true, result: [{ id: 7, status: 'updated' }] }],
        );
        await withServer(expired, async (server) => {
            assert.equal((await make(server.url).deliver(lead(), context)).state, 'delivered');
            assert.equal(server.requests.filter((r) => r.path.startsWith('/identity/')).length, 2);
        });
        const unauthorized = marketo((token) => (token === 'Bearer token-1:ab' ? [401, {}] : [200, { success: true, result: [{ id: 7, status: 'updated' }] }]));
        await withServer(unauthorized, async (server) => {
            assert.equal((await make(server.url).deliver(lead(), context)).state, 'delivered');
        });
        const alwaysExpired = marketo(() => [200, { success: false, errors: [{ code: '601', message: 'Access token invalid' }] }]);
        await withServer(alwaysExpired, async (server) => {
            await failureOf(make(server.url).deliver(lead(), context));
            assert.equal(server.requests.filter((r) => r.path === '/rest/v1/leads.json').length, 2, 'refreshes once, not forever');
        });
    });

    it('retries rate limits (606) and gives up on a skipped record, with its reasons', async () => {
        await withServer(
            marketo(() => [200, { success: false, errors: [{ code: '606', message: 'Max rate limit exceeded' }] }]),
            async (server) => {
                assert.equal((await failureOf(make(server.url).deliver(lead(), context))).kind, 'transient');
            },
        );
        const skipped = marketo(() => [200, { success: true, result: [{ status: 'skipped', reasons: [{ code: '1003', message: 'Value for field country is invalid' }] }] }]);
        await withServer(skipped, async (server) => {
            const failure = await failureOf(make(server.url).deliver(lead(), context));
            assert.equal(failure.kind, 'permanent');
            assert.equal(failure.message, 'Marketo skipped the lead: error code "1003".');
        });
    });

    it('gives up at once on bad client credentials', async () => {
        await withServer(
            marketo(() => [200, {}]),
            async (server) => {
                const destination: Destination = MarketoDestination.create(readSettings({ LEAD_DESTINATIONS: 'marketo', MARKETO_URL: server.url, MARKETO_CLIENT_ID: 'cid', MARKETO_CLIENT_SECRET: 'wrong' }));
                const failure = await failureOf(destination.deliver(lead(), context));
                assert.equal(failure.kind, 'permanent');
                assert.doesNotMatch(failure.message, /wrong/);
            },
        );
    });
});

describe('Salesforce (Web-to-Lead)', () => {
    it('posts the Web-to-Lead form fields and records the lead as submitted', async () => {
        await withServer(
            (_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'),
            async (server) => {
                const destination: Destination = SalesforceDestination.create(
                    readSettings({ LEAD_DESTINATIONS: 'salesforce', SALESFORCE_OID: '00Do0000000ZHog', SALESFORCE_URL: `${server.url}/servlet/servlet.WebToLead?encoding=UTF-8` }),
                );
                assert.deepEqual(await destination.deliver(lead(), context), { state: 'submitted' });
                const [request] = server.requests;
                assert.equal(request?.path, '/servlet/servlet.WebToLead?encoding=UTF-8');
                assert.match(String(request.headers['content-type']), /application\/x-www-form-urlencoded/);
                const form = new URLSearchParams(request.body);
                assert.equal(form.get('oid'), '00Do0000000ZHog');
                assert.equal(form.get('first_name'), 'Ada');
                assert.equal(form.get('last_name'), 'Lovelace');
                assert.equal(form.get('email'), 'ada@contoso.example');
                assert.equal(form.get('company'), 'Contoso');
                assert.equal(form.get('title'), 'CTO');
                assert.equal(form.get('phone'), '+44 20 7946 0000');
                assert.equal(form.get('country'), 'GB');
                assert.equal(form.get('lead_source'), 'AppSource (SPZA)');
                assert.equal(form.get('encoding'), 'UTF-8');
                assert.match(form.get('description') ?? '', /^Call me\n\nSource: AppSource \(SPZA\)\nAction: PLT\nOffer: Contoso Analytics \(contoso\.analytics\)/);
            },
        );
    });

    it('treats a 5xx as transient', async () => {
        await withServer(
            (_, res) => json(res, 503),
            async (server) => {
                const destination: Destination = SalesforceDestination.create(readSettings({ LEAD_DESTINATIONS: 'salesforce', SALESFORCE_OID: 'x', SALESFORCE_URL: server.url }));
                assert.equal((await failureOf(destination.deliver(lead(), context))).kind, 'transient');
            },
        );
    });
});

/** Entra ID's discovery document and client-credentials token endpoint for tenant "test-tenant"; false for other paths. */
function answerEntra(request: RecordedRequest, res: ServerResponse, base: string): boolean {
    if (request.path.startsWith('/test-tenant/v2.0/.well-known/openid-configuration')) {
        json(res, 200, {
            token_endpoint: `${base}/test-tenant/oauth2/v2.0/token`,
            authorization_endpoint: `${base}/test-tenant/oauth2/v2.0/authorize`,
            end_session_endpoint: `${base}/test-tenant/oauth2/v2.0/logout`,
            issuer: `${base}/test-tenant/v2.0`,
            jwks_uri: `${base}/test-tenant/discovery/v2.0/keys`,
        });
        return true;
    }
    if (request.path.split('?')[0] !== '/test-tenant/oauth2/v2.0/token') return false;
    const form = new URLSearchParams(request.body);
    const valid = form.get('grant_type') === 'client_credentials' && form.get('client_id') === 'app-id' && form.get('client_secret') === 'app-secret' && form.get('scope') === `${base}/.default`;
    if (!valid) json(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
    else json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: 'dataverse-token' });
    return true;
}

/*
 * Dynamics 365 goes through the whole app: the real ClientSecretCredential from @azure/identity
 * gets its token from a local Entra ID look-alike (HTTPS, as MSAL requires), and the lead reaches
 * a local Dataverse Web API. The app process trusts the test certificate via NODE_EXTRA_CA_CERTS.
 */
describe('Dynamics 365 (Dataverse Web API, Entra ID client credentials)', () => {
    let azurite: Azurite;
    let server: TestServer;
    let app: RunningApp;
    const created = new Set<string>();

    before(async () => {
        const { certFile, key, cert } = testCertificate();
        azurite = await startAzurite();
        server = await startTestServer(
            (request, res) => {
                const base = server.url;
                if (answerEntra(request, res, base)) return;
                const match = /^\/api\/data\/v9\.2\/leads\(([0-9a-f-]{36})\)$/.exec(request.path);
                if (match && request.method === 'PATCH') {
                    if (request.headers.authorization !== 'Bearer dataverse-token') return json(res, 401, { error: { code: '0x80072560', message: 'The user is not a member of the organization.' } });
                    const id = match[1] ?? '';
                    if (request.headers['if-none-match'] === '*' && created.has(id)) return json(res, 412, { error: { code: '0x80060882', message: 'A record with matching key values already exists.' } });
                    created.add(id);
                    return res.writeHead(204, { 'odata-entityid': `${base}/api/data/v9.2/leads(${id})` }).end();
                }
                json(res, 404, { error: { code: '0x8006088a', message: 'Resource not found.' } });
            },
            { key, cert },
        );
        app = await startApp({
            env: {
                AzureWebJobsStorage: azurite.connectionString,
                NODE_EXTRA_CA_CERTS: certFile,
                LEAD_DESTINATIONS: 'dynamics',
                DYNAMICS_URL: server.url,
                DYNAMICS_AUTHORITY_HOST: server.url,
                DYNAMICS_TENANT_ID: 'test-tenant',
                DYNAMICS_CLIENT_ID: 'app-id',
                DYNAMICS_CLIENT_SECRET: 'app-secret',
                DELIVERY_RETRY_SECONDS: '1',
            },
            port: await freePort(),
        });
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await app?.stop();
        await server?.close();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    async function deliveryState(id: string): Promise<string | undefined> {
        const table = TableClient.fromConnectionString(azurite.connectionString, 'LeadDeliveries', { allowInsecureConnection: true });
        try {
            return (await table.getEntity<{ State: string; Attempts: number }>(id, 'dynamics')).State;
        } catch {
            return undefined;
        }
    }

    it('creates the lead once, with a token for {org url}/.default, under an id derived from the lead id', async () => {
        const body = {
            UserDetails: { FirstName: 'Ada', LastName: 'Lovelace', Email: 'ada@contoso.example', Company: 'Contoso', Title: 'CTO', Country: 'GB', Phone: '+44 20 7946 0000' },
            LeadSource: 'AzurePortal-Create|contoso.analytics',
            OfferTitle: 'Contoso Analytics',
        };
        const response = await fetch(`${app.url}/api/leads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const { id } = (await response.json()) as { id: string };
        await eventually(async () => ((await deliveryState(id)) === 'delivered' ? true : undefined), 20_000, 'the Dynamics delivery').catch((error: unknown) => {
            throw new Error(`${String(error)}\n${app.output()}\n${server.requests.map((r) => `${r.method} ${r.path}`).join('\n')}`);
        });
        const patch = server.requests.find((r) => r.method === 'PATCH');
        const recordId = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
        assert.equal(patch?.path, `/api/data/v9.2/leads(${recordId})`);
        assert.equal(patch.headers['if-none-match'], '*');
        assert.equal(patch.headers['odata-version'], '4.0');
        const columns = JSON.parse(patch.body) as Record<string, string>;
        assert.equal(columns.firstname, 'Ada');
        assert.equal(columns.lastname, 'Lovelace');
        assert.equal(columns.emailaddress1, 'ada@contoso.example');
        assert.equal(columns.telephone1, '+44 20 7946 0000');
        assert.equal(columns.companyname, 'Contoso');
        assert.equal(columns.jobtitle, 'CTO');
        assert.equal(columns.address1_country, 'GB');
        assert.equal(columns.subject, 'Marketplace lead for Contoso Analytics (AzurePortal Create)');
        assert.match(columns.description ?? '', /Source: AzurePortal\nAction: Create\nOffer: Contoso Analytics \(contoso\.analytics\)/);
        assert.ok(server.requests.some((r) => r.path.startsWith('/test-tenant/oauth2/v2.0/token')));
        assert.doesNotMatch(app.output(), /app-secret|ada@contoso/);
    });
});

/*
 * Every destination refuses the lead and echoes it back, as real services do in their error
 * messages. What the app logs, and what it records as the reason, must still hold no personal data.
 */
describe('no personal data in logs or delivery records', () => {
    const customers = [
        { FirstName: 'Quillonia', LastName: 'Brackenridge', Email: 'quillonia.brackenridge@zyxwerth.example', Phone: '+1 425 555 0199', Company: 'Zyxwerth Holdings' },
        { FirstName: 'Ottoline', LastName: 'Vanterpool', Email: 'ottoline.vanterpool@gralvex.example', Phone: '+44 161 496 0321', Company: 'Gralvex Industries' },
    ];
    const personalValues = customers.flatMap((c) => [c.FirstName, c.LastName, c.Email, c.Phone, c.Phone.replace(/\D/g, ''), c.Company]);
    const destinations = ['webhook', 'dynamics', 'salesforce', 'marketo', 'hubspot'];

    /** Marketo answers 200: for the first customer success:false with errors, for the second a skipped record with reasons; both quote values. */
    function marketoRefusal(request: RecordedRequest, res: ServerResponse) {
        const [input] = (JSON.parse(request.body) as { input: Record<string, string>[] }).input;
        const quoted = `${input?.firstName} ${input?.lastName} <${input?.email}>, ${input?.phone}, ${input?.company}`;
        if (input?.email === customers[0]?.Email) return json(res, 200, { requestId: 'r#1', success: false, errors: [{ code: '1003', message: `Value for field firstName is invalid: ${quoted}` }] });
        json(res, 200, { requestId: 'r#2', success: true, result: [{ status: 'skipped', reasons: [{ code: '1006', message: `Field 'company' not found: ${quoted}` }] }] });
    }

    /** Each vendor's documented error shape, with the request echoed into its messages. */
    function echoingVendors(request: RecordedRequest, res: ServerResponse, base: string) {
        const path = request.path.split('?')[0] ?? '';
        if (answerEntra(request, res, base)) return;
        if (path === '/identity/oauth/token') return json(res, 200, { access_token: 'marketo-token', token_type: 'bearer', expires_in: 3599 });
        if (path === '/rest/v1/leads.json') return marketoRefusal(request, res);
        if (path.startsWith('/api/data/v9.2/leads(')) return json(res, 400, { error: { code: '0x80040217', message: `The lead could not be created: ${request.body}` } });
        if (path === '/crm/v3/objects/contacts' && request.body.includes(customers[1]?.Email ?? '')) return json(res, 409, { status: 'error', message: 'Contact already exists. Existing ID: 501', category: 'CONFLICT' });
        if (path.startsWith('/crm/v3/objects/contacts')) {
            const errors = [{ code: 'INVALID_EMAIL', message: `Email address ${request.body} is invalid`, in: 'email', context: { propertyName: ['email'] } }];
            return json(res, 400, { status: 'error', message: `Property values were not valid: ${request.body}`, correlationId: 'c0ffee', category: 'VALIDATION_ERROR', errors });
        }
        const form = JSON.stringify(Object.fromEntries(new URLSearchParams(request.body)));
        if (path === '/servlet/servlet.WebToLead') res.writeHead(400, { 'content-type': 'text/html' }).end(`<html><body>Bad lead: ${form}</body></html>`);
        else json(res, 400, { error: `Refused: ${request.body}` });
    }

    async function deliveryRecords(connection: string): Promise<Record<string, unknown>[]> {
        const table = TableClient.fromConnectionString(connection, 'LeadDeliveries', { allowInsecureConnection: true });
        const rows: Record<string, unknown>[] = [];
        for await (const row of table.listEntities()) rows.push(row);
        return rows;
    }

    it('logs and records only statuses, vendor codes and field names when every destination echoes the lead in its refusal', async () => {
        const { certFile, key, cert } = testCertificate();
        const azurite = await startAzurite();
        const server: TestServer = await startTestServer((request, res) => echoingVendors(request, res, server.url), { key, cert });
        let app: RunningApp | undefined;
        try {
            app = await startApp({
                env: {
                    AzureWebJobsStorage: azurite.connectionString,
                    'AzureWebJobs.notifyContacts.Disabled': 'true',
                    NODE_EXTRA_CA_CERTS: certFile,
                    LEAD_DESTINATIONS: destinations.join(', '),
                    WEBHOOK_URL: `${server.url}/hook`,
                    DYNAMICS_URL: server.url,
                    DYNAMICS_AUTHORITY_HOST: server.url,
                    DYNAMICS_TENANT_ID: 'test-tenant',
                    DYNAMICS_CLIENT_ID: 'app-id',
                    DYNAMICS_CLIENT_SECRET: 'app-secret',
                    SALESFORCE_OID: '00Do0000000ZHog',
                    SALESFORCE_URL: `${server.url}/servlet/servlet.WebToLead?encoding=UTF-8`,
                    MARKETO_URL: server.url,
                    MARKETO_CLIENT_ID: 'cid',
                    MARKETO_CLIENT_SECRET: 'csecret',
                    HUBSPOT_URL: server.url,
                    HUBSPOT_TOKEN: 'pat-na1-test',
                },
                port: await freePort(),
            });
            const running = app;
            const ids = await Promise.all(
                customers.map((c) => postLead(running.url, { UserDetails: { ...c, Title: 'CTO', Country: 'US' }, LeadSource: 'AzureMarketplace-INS|contoso.analytics', OfferTitle: 'Contoso Analytics' })),
            );
            const rows = await eventually(
                async () => {
                    const found = await deliveryRecords(azurite.connectionString).catch(() => []);
                    return found.length === ids.length * destinations.length && found.every((r) => r.State === 'failed') ? found : undefined;
                },
                30_000,
                'every delivery to fail',
            ).catch((error: unknown) => {
                throw new Error(`${String(error)}\n${running.output()}`);
            });
            await eventually(() => (ids.every((id) => running.output().includes(`Lead ${id}:`)) ? true : undefined), 5000, 'the failures to be logged');

            const recorded = rows.map((r) => JSON.stringify(r));
            for (const value of personalValues) {
                const holding = (lines: string[]) => lines.filter((line) => line.toLowerCase().includes(value.toLowerCase()));
                assert.deepEqual(holding(running.output().split('\n')), [], `the log holds "${value}"`);
                assert.deepEqual(holding(recorded), [], `a delivery record holds "${value}"`);
            }

            const byDestination = new Map(rows.filter((r) => r.partitionKey === ids[0]).map((r) => [String(r.rowKey), String(r.LastError)]));
            assert.match(byDestination.get('dynamics') ?? '', /400 with error code "0x80040217"/);
            assert.match(byDestination.get('hubspot') ?? '', /400 with category "VALIDATION_ERROR", error code "INVALID_EMAIL", field "email"/);
            assert.match(byDestination.get('marketo') ?? '', /error code "1003"/);
            assert.match(byDestination.get('webhook') ?? '', /The webhook answered 400\./);
            assert.match(byDestination.get('salesforce') ?? '', /Salesforce Web-to-Lead answered 400\./);
            assert.match(rows.find((r) => r.partitionKey === ids[1] && r.rowKey === 'marketo')?.LastError as string, /skipped the lead: error code "1006"/);
            assert.ok(
                server.requests.some((r) => r.method === 'PATCH' && r.path.startsWith('/crm/v3/objects/contacts/')),
                'the HubSpot update path was taken',
            );
        } finally {
            await app?.stop();
            await server.close();
            await azurite.stop();
        }
    });
});
