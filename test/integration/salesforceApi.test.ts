import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { readSettings } from '../../src/config/settings';
import { DeliveryFailure, type DeliveryContext, type DeliveryOutcome } from '../../src/deliver/destination';
import { describeOrigin } from '../../src/deliver/destinations/salesforce';
import { SalesforceApiDestination } from '../../src/deliver/destinations/salesforceApi';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { parseLead } from '../../src/intake/parseLead';
import type { Lead } from '../../src/lead/lead';
import { json, startTestServer, type RecordedRequest, type TestServer } from '../helpers/httpServer';
import { freePort, postLead, startApp, type RunningApp } from '../helpers/processes';
import { drainQueue, eventually } from '../helpers/queues';

/*
 * The `salesforce-api` destination against a local Salesforce org that follows the documented
 * contract: the OAuth 2.0 client credentials flow at the org's My Domain
 * (`POST /services/oauth2/token`), and the REST API's upsert of a Lead by an External ID field
 * (`PATCH /services/data/vXX.X/sobjects/Lead/<field>/<value>`), with its status codes and its
 * error list `[{"errorCode","message","fields"}]`, whose messages quote the values they refuse.
 */

const clientId = '3MVG9_consumer.key';
const clientSecret = 'F00D-consumer-secret-9d1e';
const externalIdField = 'Marketplace_Lead_Id__c';
/** The standard Lead fields the org knows; anything else in a body is INVALID_FIELD. */
const leadFields = new Set(['FirstName', 'LastName', 'Email', 'Phone', 'Title', 'Company', 'Country', 'Description', 'LeadSource']);

interface OrgLead {
    id: string;
    fields: Record<string, string>;
    converted?: boolean;
}

interface FakeOrg {
    server: TestServer;
    /** The My Domain URL (127.0.0.1): where tokens come from. */
    domain: string;
    /** The `instance_url` it issues (localhost, another host): where the API is. */
    instanceUrl: string;
    /** Leads by external id; more than one is a duplicate that makes upserts answer 300. */
    leads: Map<string, OrgLead[]>;
    /** Access tokens the API accepts; `expireSessions` clears it, as a session time-out does. */
    sessions: Set<string>;
    issued: string[];
    /** Every upsert that passed authentication, and every one refused with 401. */
    upserts: RecordedRequest[];
    refused: RecordedRequest[];
    /** Answers for the next authenticated upserts, before the org looks at them. */
    next: ((res: ServerResponse) => unknown)[];
    /** Answers for the next token requests, before the org looks at them. */
    nextToken: ((res: ServerResponse) => unknown)[];
    /** How long to hold an upsert's answer after it was applied; 0 answers at once. */
    holdAnswer: (fields: Record<string, string>) => number;
    /** 204 for an update (before API 46.0, and as the tests' default), or 200 with a body. */
    updateStatus: 200 | 204;
    /** Fields the run-as user cannot see (field-level security): the API says INVALID_FIELD. */
    hidden: Set<string>;
    /** The app has no run-as user for the client credentials flow. */
    noRunAsUser: boolean;
    /** Refuses every session, even a new one. */
    refuseAll: boolean;
    expireSessions(): void;
    count(): number;
}

function salesforceError(res: ServerResponse, status: number, errorCode: string, message: string, fields: string[] = []): ServerResponse {
    return json(res, status, [{ message, errorCode, fields }]);
}

function answerToken(org: FakeOrg, request: RecordedRequest, res: ServerResponse): unknown {
    const scripted = org.nextToken.shift();
    if (scripted) return scripted(res);
    const form = new URLSearchParams(request.body);
    if (!String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return json(res, 400, { error: 'invalid_request', error_description: 'unsupported content type' });
    if (form.get('grant_type') !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type', error_description: 'grant type not supported' });
    if (form.get('client_id') !== clientId) return json(res, 400, { error: 'invalid_client_id', error_description: 'client identifier invalid' });
    if (form.get('client_secret') !== clientSecret) return json(res, 400, { error: 'invalid_client', error_description: 'invalid client credentials' });
    if (org.noRunAsUser) return json(res, 400, { error: 'invalid_grant', error_description: 'no client credentials user enabled' });
    const accessToken = `00D5g000004SEPm!AQ0AQ${randomBytes(24).toString('base64url')}`;
    org.issued.push(accessToken);
    if (!org.refuseAll) org.sessions.add(accessToken);
    json(res, 200, {
        access_token: accessToken,
        signature: randomBytes(32).toString('base64'),
        scope: 'api',
        instance_url: org.instanceUrl,
        id: `${org.domain}/id/00D5g000004SEPmEAO/0055g00000BqRkQAAV`,
        token_type: 'Bearer',
        issued_at: String(Date.now()),
    });
}

const upsertPath = /^\/services\/data\/v(\d{2,3}\.0)\/sobjects\/Lead\/([^/?]+)\/([^/?]+)$/;
let recordNumber = 0;

/** The upsert: create (201), update the one Lead with that external id (204 or 200), or refuse as Salesforce does. */
function answerUpsert(org: FakeOrg, request: RecordedRequest, res: ServerResponse, [, version, field, value]: string[]): unknown {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    if (!org.sessions.has(token)) {
        org.refused.push(request);
        return salesforceError(res, 401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    }
    org.upserts.push(request);
    const scripted = org.next.shift();
    if (scripted) return scripted(res);
    if (field !== externalIdField) return salesforceError(res, 404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${field ?? ''}`);
    const fields = JSON.parse(request.body) as Record<string, string>;
    const unknown = Object.keys(fields).find((name) => !leadFields.has(name) || org.hidden.has(name));
    if (unknown) return salesforceError(res, 400, 'INVALID_FIELD', `No such column '${unknown}' on sobject of type Lead`);
    if (fields.Email !== undefined && !/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(fields.Email)) return salesforceError(res, 400, 'INVALID_EMAIL_ADDRESS', `Email: invalid email address: ${fields.Email}`, ['Email']);
    const externalId = decodeURIComponent(value ?? '');
    const existing = org.leads.get(externalId) ?? [];
    if (existing.length > 1)
        return json(
            res,
            300,
            existing.map((lead) => `/services/data/v${version ?? ''}/sobjects/Lead/${lead.id}`),
        );
    const [record] = existing;
    if (record?.converted) return salesforceError(res, 400, 'CANNOT_UPDATE_CONVERTED_LEAD', `cannot reference converted lead: ${record.fields.LastName ?? ''}`);
    const missing = record ? [] : ['LastName', 'Company'].filter((name) => !fields[name]);
    if (missing.length > 0) return salesforceError(res, 400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
    const lead = record ?? { id: `00Q5g${String(++recordNumber).padStart(10, '0')}EAU`, fields: { [externalIdField]: externalId } };
    Object.assign(lead.fields, fields);
    if (!record) org.leads.set(externalId, [lead]);
    const answer = () => {
        if (!record) json(res, 201, { id: lead.id, success: true, errors: [], created: true });
        else if (org.updateStatus === 200) json(res, 200, { id: lead.id, success: true, errors: [], created: false });
        else res.writeHead(204).end();
    };
    const hold = org.holdAnswer(fields);
    if (hold > 0) setTimeout(() => res.destroyed || answer(), hold);
    else answer();
}

async function startOrg(): Promise<FakeOrg> {
    const server = await startTestServer((request, res) => {
        const match = upsertPath.exec(request.path);
        if (request.method === 'POST' && request.path === '/services/oauth2/token') return answerToken(org, request, res);
        if (request.method === 'PATCH' && match) return answerUpsert(org, request, res, [...match]);
        salesforceError(res, 404, 'NOT_FOUND', 'The requested resource does not exist');
    });
    const org: FakeOrg = {
        server,
        domain: server.url,
        instanceUrl: server.url.replace('127.0.0.1', 'localhost'),
        leads: new Map(),
        sessions: new Set(),
        issued: [],
        upserts: [],
        refused: [],
        next: [],
        nextToken: [],
        holdAnswer: () => 0,
        updateStatus: 204,
        hidden: new Set(),
        noRunAsUser: false,
        refuseAll: false,
        expireSessions: () => org.sessions.clear(),
        count: () => [...org.leads.values()].flat().length,
    };
    return org;
}

function marketplaceLead(userDetails: Record<string, string> = {}): Lead {
    const body = {
        UserDetails: { FirstName: 'Ada', LastName: 'Lovelace', Email: 'ada.lovelace@contoso.example', Phone: '+44 20 7946 0000', Company: 'Contoso', Title: 'CTO', Country: 'GB', ...userDetails },
        LeadSource: 'AppSource (SPZA)-PLT|contoso.analytics',
        OfferTitle: 'Contoso Analytics',
        Description: 'Call me',
    };
    return parseLead(JSON.stringify(body), 'json', { receivedAt: new Date(), receiptId: randomBytes(4).toString('hex') });
}

const create: DeliveryContext = { attempt: 1, target: undefined, mode: 'create' };
const update: DeliveryContext = { attempt: 1, target: undefined, mode: 'update' };

function destinationFor(org: FakeOrg, overrides: Record<string, string> = {}): SalesforceApiDestination {
    return SalesforceApiDestination.create(
        readSettings({
            LEAD_DESTINATIONS: 'salesforce-api',
            SALESFORCE_DOMAIN: org.domain,
            SALESFORCE_CLIENT_ID: clientId,
            SALESFORCE_CLIENT_SECRET: clientSecret,
            SALESFORCE_EXTERNAL_ID_FIELD: externalIdField,
            DELIVERY_TIMEOUT_SECONDS: '0.5',
            ...overrides,
        }),
    );
}

/** The DeliveryFailure a delivery ends with; it must hold no customer value, secret or token. */
async function refusal(run: Promise<DeliveryOutcome>, org: FakeOrg, lead: Lead): Promise<DeliveryFailure> {
    const outcome = await run.then(
        (value) => value,
        (error: unknown) => error,
    );
    assert.ok(outcome instanceof DeliveryFailure, `expected a DeliveryFailure, got ${JSON.stringify(outcome)}`);
    const { firstName, lastName, email, phone, company } = lead.customer;
    for (const value of [firstName, lastName, email, phone, company, clientSecret, ...org.issued].filter(Boolean)) assert.ok(!outcome.message.includes(value), `"${outcome.message}" holds "${value}"`);
    return outcome;
}

describe('Salesforce REST API (Lead upsert on an External ID, client credentials flow)', () => {
    let org: FakeOrg;

    before(async () => {
        org = await startOrg();
    });
    after(() => org.server.close());

    /** A fresh org for each test: no leads, no sessions, nothing scripted. */
    function reset(): void {
        Object.assign(org, { updateStatus: 204, noRunAsUser: false, refuseAll: false, holdAnswer: () => 0 });
        for (const collection of [org.leads, org.sessions, org.hidden]) collection.clear();
        for (const list of [org.issued, org.upserts, org.refused, org.next, org.nextToken, org.server.requests]) list.length = 0;
    }

    it('gets a session at the My Domain, keeps it, and upserts the Lead at the instance URL by the lead id', async () => {
        reset();
        const destination = destinationFor(org);
        const lead = marketplaceLead();
        const outcome = await destination.deliver(lead, create);
        const [record] = org.leads.get(lead.id) ?? [];
        assert.deepEqual(outcome, { state: 'delivered', target: `Lead ${record?.id ?? ''}` });

        const [token, upsert] = org.server.requests;
        assert.equal(token?.method, 'POST');
        assert.equal(token.path, '/services/oauth2/token');
        assert.equal(token.headers.host, new URL(org.domain).host);
        assert.deepEqual(Object.fromEntries(new URLSearchParams(token.body)), { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
        assert.equal(upsert?.method, 'PATCH');
        assert.equal(upsert.path, `/services/data/v62.0/sobjects/Lead/${externalIdField}/${lead.id}`);
        assert.equal(upsert.headers.host, new URL(org.instanceUrl).host, 'the API is called at instance_url');
        assert.equal(upsert.headers.authorization, `Bearer ${org.issued[0] ?? ''}`);
        assert.match(String(upsert.headers['content-type']), /^application\/json/);
        assert.deepEqual(JSON.parse(upsert.body), {
            FirstName: 'Ada',
            LastName: 'Lovelace',
            Email: 'ada.lovelace@contoso.example',
            Phone: '+44 20 7946 0000',
            Title: 'CTO',
            Company: 'Contoso',
            Country: 'GB',
            Description: describeOrigin(lead),
            LeadSource: 'AppSource (SPZA)',
        });

        // The same lead again (a retry): the same record, and 204 says no id, so the earlier target stays.
        assert.deepEqual(await destination.deliver(lead, { ...create, target: outcome.state === 'delivered' ? outcome.target : undefined }), outcome);
        org.updateStatus = 200;
        assert.deepEqual(await destination.deliver(lead, create), outcome, '200 names the record');
        assert.equal(org.count(), 1);
        assert.equal(org.issued.length, 1, 'one session for all three');
        assert.equal(destination.maxCalls, 4);
    });

    it('fills the required LastName and Company with "[not provided]" on a new Lead, and an update sends only what the lead has', async () => {
        reset();
        const destination = destinationFor(org);
        const sparse = marketplaceLead({ LastName: '', Company: '', Phone: '', Title: 'T'.repeat(200), Country: '' });
        await destination.deliver(sparse, create);
        const created = JSON.parse(org.upserts[0]?.body ?? '{}') as Record<string, string>;
        assert.equal(created.LastName, '[not provided]');
        assert.equal(created.Company, '[not provided]');
        assert.equal(created.Title, 'T'.repeat(128), "cut to the field's length");
        assert.equal('Phone' in created || 'Country' in created, false);

        // A salesperson completes the record; the customer then sends a changed lead without those fields.
        const [record] = org.leads.get(sparse.id) ?? [];
        Object.assign(record?.fields ?? {}, { LastName: 'Lovelace', Company: 'Contoso Ltd', Phone: '+44 20 7946 0001' });
        const changed = marketplaceLead({ LastName: '', Company: '', Phone: '', Title: 'CEO', Country: '' });
        assert.equal(changed.id, sparse.id);
        // 204 names no record: with no earlier target, the target says how to find it.
        assert.deepEqual(await destination.deliver(changed, update), { state: 'delivered', target: `Lead ${externalIdField} ${sparse.id}` });
        const sent = JSON.parse(org.upserts[1]?.body ?? '{}') as Record<string, string>;
        assert.deepEqual(Object.keys(sent).sort(), ['Description', 'Email', 'FirstName', 'LeadSource', 'Title']);
        assert.deepEqual(
            { LastName: record?.fields.LastName, Company: record?.fields.Company, Phone: record?.fields.Phone, Title: record?.fields.Title },
            { LastName: 'Lovelace', Company: 'Contoso Ltd', Phone: '+44 20 7946 0001', Title: 'CEO' },
        );
        assert.equal(org.count(), 1);
    });

    it('gets a new session once on 401 INVALID_SESSION_ID, and gives up if that one is refused too', async () => {
        reset();
        const destination = destinationFor(org);
        await destination.deliver(marketplaceLead(), create);
        org.expireSessions();
        assert.equal((await destination.deliver(marketplaceLead({ Title: 'CEO' }), update)).state, 'delivered');
        assert.equal(org.issued.length, 2);
        assert.equal(org.refused.length, 1);

        org.refuseAll = true;
        org.expireSessions();
        const before = org.server.requests.length;
        const lead = marketplaceLead({ Title: 'CFO' });
        const failure = await refusal(destination.deliver(lead, update), org, lead);
        assert.equal(failure.kind, 'permanent');
        assert.match(failure.message, /^Salesforce answered 401 with error code "INVALID_SESSION_ID": a new access token was refused too; check that the run-as user is active/);
        assert.deepEqual(
            org.server.requests.slice(before).map((r) => r.method),
            ['PATCH', 'POST', 'PATCH'],
            'the cached session, one new session, one more try: never a loop',
        );
    });

    it('retries what may pass: 403 REQUEST_LIMIT_EXCEEDED, 503, 429 with Retry-After, UNABLE_TO_LOCK_ROW', async () => {
        reset();
        const destination = destinationFor(org);
        const lead = marketplaceLead();
        const cases: [(res: ServerResponse) => unknown, RegExp][] = [
            [(res) => salesforceError(res, 403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'), /^Salesforce answered 403 with error code "REQUEST_LIMIT_EXCEEDED"\.$/],
            [(res) => salesforceError(res, 503, 'SERVER_UNAVAILABLE', 'Server unavailable'), /503/],
            [(res) => json(res, 429, [], { 'retry-after': '7' }), /429/],
            [(res) => salesforceError(res, 400, 'UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record'), /UNABLE_TO_LOCK_ROW/],
        ];
        for (const [answer, message] of cases) {
            org.next.push(answer);
            const failure = await refusal(destination.deliver(lead, create), org, lead);
            assert.equal(failure.kind, 'transient', failure.message);
            assert.match(failure.message, message);
        }
        org.next.push((res) => json(res, 429, [], { 'retry-after': '7' }));
        assert.equal((await refusal(destination.deliver(lead, create), org, lead)).retryAfterMs, 7000);
        assert.equal(org.count(), 0);
    });

    it('retries a time-out safely: the retry finds the Lead the timed-out call made, never a second one', async () => {
        reset();
        const destination = destinationFor(org);
        const lead = marketplaceLead();
        let held = false;
        org.holdAnswer = () => (held ? 0 : ((held = true), 1000));
        const failure = await refusal(destination.deliver(lead, create), org, lead);
        assert.equal(failure.kind, 'transient');
        assert.match(failure.message, /did not answer within 500 ms/);
        assert.equal(org.count(), 1, 'Salesforce applied the upsert it did not answer in time');
        assert.equal((await destination.deliver(lead, create)).state, 'delivered');
        assert.equal(org.count(), 1);
        assert.equal(org.upserts.length, 2);
    });

    it('gives up on refusals with their codes and field names only, never the values Salesforce quotes', async () => {
        reset();
        const cases: [string, () => Promise<DeliveryFailure>, RegExp][] = [
            [
                'a bad e-mail',
                () => {
                    const lead = marketplaceLead({ Email: 'ada.lovelace@contoso' });
                    return refusal(destinationFor(org).deliver(lead, create), org, lead);
                },
                /^Salesforce answered 400 with error code "INVALID_EMAIL_ADDRESS", field "Email"\.$/,
            ],
            [
                'an update of a Lead that is gone, without LastName',
                () => {
                    const lead = marketplaceLead({ LastName: '', Email: 'grace@contoso.example' });
                    return refusal(destinationFor(org).deliver(lead, update), org, lead);
                },
                /^Salesforce answered 400 with error code "REQUIRED_FIELD_MISSING", field "LastName"\.$/,
            ],
            [
                'a field the run-as user cannot see',
                () => {
                    org.hidden.add('Phone');
                    const lead = marketplaceLead();
                    return refusal(destinationFor(org).deliver(lead, create), org, lead).finally(() => org.hidden.clear());
                },
                /^Salesforce answered 400 with error code "INVALID_FIELD": check that SALESFORCE_EXTERNAL_ID_FIELD/,
            ],
            [
                'an external id field the org does not have',
                () => {
                    const lead = marketplaceLead();
                    return refusal(destinationFor(org, { SALESFORCE_EXTERNAL_ID_FIELD: 'Wrong_Field__c' }).deliver(lead, create), org, lead);
                },
                /^Salesforce answered 404 with error code "NOT_FOUND": check that SALESFORCE_EXTERNAL_ID_FIELD names a field on Lead marked External ID/,
            ],
        ];
        for (const [what, run, message] of cases) {
            const failure = await run();
            assert.equal(failure.kind, 'permanent', what);
            assert.match(failure.message, message, what);
        }
        assert.equal(org.count(), 0);
    });

    it('gives up on 300 (several Leads hold the lead id), naming them, and skips an update of a converted Lead', async () => {
        reset();
        const destination = destinationFor(org);
        const lead = marketplaceLead();
        org.leads.set(lead.id, [
            { id: '00Q5g0000000000001EAU', fields: {} },
            { id: '00Q5g0000000000002EAU', fields: {} },
        ]);
        const failure = await refusal(destination.deliver(lead, update), org, lead);
        assert.equal(failure.kind, 'permanent');
        assert.equal(
            failure.message,
            `Salesforce answered 300: 2 Leads (00Q5g0000000000001EAU, 00Q5g0000000000002EAU) have ${externalIdField} = ${lead.id}, so none was updated; merge them into one, and make the field Unique so that it cannot happen again.`,
        );

        org.leads.set(lead.id, [{ id: '00Q5g0000000000003EAU', fields: { LastName: 'Lovelace' }, converted: true }]);
        const outcome = await destination.deliver(lead, update);
        assert.equal(outcome.state, 'skipped');
        assert.ok(/converted/.test(outcome.reason) && !outcome.reason.includes('Lovelace'), outcome.reason);
    });

    it('refuses bad client credentials for good, naming the setting to check and never the secret; a 5xx is retried', async () => {
        reset();
        const lead = marketplaceLead();
        const cases: [Record<string, string>, () => void, 'transient' | 'permanent', RegExp][] = [
            [{ SALESFORCE_CLIENT_ID: 'wrong-id' }, () => undefined, 'permanent', /400 with error code "invalid_client_id": check SALESFORCE_CLIENT_ID/],
            [{ SALESFORCE_CLIENT_SECRET: 'wrong-secret' }, () => undefined, 'permanent', /400 with error code "invalid_client": check SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET/],
            [{}, () => (org.noRunAsUser = true), 'permanent', /400 with error code "invalid_grant": set a run-as user for the client credentials flow/],
            [{}, () => ((org.noRunAsUser = false), org.nextToken.push((res) => json(res, 503, { error: 'server_error' }))), 'transient', /^The Salesforce token endpoint answered 503 with error code "server_error"\.$/],
        ];
        for (const [settings, arrange, kind, message] of cases) {
            arrange();
            const destination = destinationFor(org, settings);
            const failure = await refusal(destination.deliver(lead, create), org, lead);
            assert.equal(failure.kind, kind, failure.message);
            assert.match(failure.message, message);
            assert.doesNotMatch(failure.message, /wrong-secret|consumer-secret/);
        }
        assert.equal(org.upserts.length, 0, 'no call without a session');
    });
});

/*
 * Through the app on its local host, over Azurite: the table and `salesforce-api`, with a one-second
 * time-out and retry so that a timed-out upsert is retried within the test.
 */
describe('salesforce-api through the app', () => {
    let azurite: Azurite;
    let org: FakeOrg;
    let app: RunningApp;
    const customer = { FirstName: 'Quillonia', LastName: 'Brackenridge', Email: 'quillonia.brackenridge@zyxwerth.example', Phone: '+1 425 555 0199', Company: 'Zyxwerth Holdings', Title: 'CTO', Country: 'US' };
    const post = (details: Partial<typeof customer>, description = 'Call me') =>
        postLead(app.url, { UserDetails: { ...customer, ...details }, LeadSource: 'AzureMarketplace-INS|contoso.analytics', OfferTitle: 'Contoso Analytics', Description: description });

    before(async () => {
        [azurite, org] = await Promise.all([startAzurite(), startOrg()]);
        app = await startApp({
            env: {
                AzureWebJobsStorage: azurite.connectionString,
                'AzureWebJobs.notifyContacts.Disabled': 'true',
                LEAD_DESTINATIONS: 'table,salesforce-api',
                SALESFORCE_DOMAIN: org.domain,
                SALESFORCE_CLIENT_ID: clientId,
                SALESFORCE_CLIENT_SECRET: clientSecret,
                SALESFORCE_EXTERNAL_ID_FIELD: externalIdField,
                DELIVERY_TIMEOUT_SECONDS: '1',
                DELIVERY_RETRY_SECONDS: '1',
            },
            port: await freePort(),
        });
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await app?.stop();
        await org?.server.close();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    async function delivery(id: string): Promise<{ State: string; Attempts: number; Target?: string; LastError?: string } | undefined> {
        const table = TableClient.fromConnectionString(azurite.connectionString, 'LeadDeliveries', { allowInsecureConnection: true });
        return table.getEntity<{ State: string; Attempts: number; Target?: string; LastError?: string }>(id, 'salesforce-api').catch(() => undefined);
    }

    /** Waits for the delivery record to reach `state` with the version posted last, and returns it. */
    function settled(id: string, state: string, what: string) {
        return eventually(
            async () => {
                const row = await delivery(id);
                return row?.State === state ? row : undefined;
            },
            20_000,
            what,
        ).catch((error: unknown) => {
            throw new Error(`${String(error)}\n${app.output()}\n${org.server.requests.map((r) => `${r.method} ${r.path}`).join('\n')}`);
        });
    }

    const upsertsOf = (id: string) => org.upserts.filter((r) => r.path.endsWith(`/${id}`));

    it('upserts a lead once, retries a time-out into the same Lead, updates it on a changed repeat, renews the session once, and poisons a refusal without the e-mail', async () => {
        const slowEmail = 'slow.lane@zyxwerth.example';
        let held = false;
        org.holdAnswer = (fields) => (fields.Email === slowEmail && !held ? ((held = true), 2000) : 0);
        const badEmail = 'ottoline.vanterpool@gralvex';

        const [first, slow, bad] = await Promise.all([post({}), post({ Email: slowEmail }), post({ Email: badEmail })]);

        const created = await settled(first, 'delivered', 'the first lead');
        const [record] = org.leads.get(first) ?? [];
        assert.equal(created.Target, `Lead ${record?.id ?? ''}`);
        assert.equal(record?.fields.Company, customer.Company);
        assert.equal(upsertsOf(first).length, 1);

        const retried = await settled(slow, 'delivered', 'the timed-out lead');
        assert.equal(retried.Attempts, 2, 'the time-out was retried, not set aside as uncertain');
        assert.equal(org.leads.get(slow)?.length, 1, 'the org holds one Lead for it');
        assert.equal(upsertsOf(slow).length, 2);

        const poisoned = await settled(bad, 'failed', 'the refused lead');
        assert.equal(poisoned.Attempts, 1, 'a 400 is not retried');
        assert.equal(poisoned.LastError, 'Salesforce answered 400 with error code "INVALID_EMAIL_ADDRESS", field "Email".');
        const poison = await eventually(async () => {
            const messages = await drainQueue(azurite.connectionString, 'leads-poison');
            return messages.length > 0 ? messages : undefined;
        });
        assert.deepEqual(
            poison.map(({ value }) => value as { id: string; delivery: { destination: string } }).map((message) => `${message.id} ${message.delivery.destination}`),
            [`${bad} salesforce-api`],
        );

        // A changed repeat, without the phone: the same Lead, with the new description, and its phone kept.
        assert.equal(await post({ Phone: '' }, 'Ready to buy 500 seats'), first);
        await eventually(() => (upsertsOf(first).length === 2 ? true : undefined), 20_000, 'the update');
        await settled(first, 'delivered', 'the update');
        const sent = JSON.parse(upsertsOf(first)[1]?.body ?? '{}') as Record<string, string>;
        assert.equal('Phone' in sent, false);
        assert.equal(org.leads.get(first)?.length, 1);
        assert.match(record.fields.Description ?? '', /^Ready to buy 500 seats/);
        assert.equal(record.fields.Phone, customer.Phone);

        // The session expires: one 401, one new token, and the lead goes through.
        const sessions = org.issued.length;
        org.expireSessions();
        const renewed = await post({ Email: 'renewed.session@zyxwerth.example' });
        await settled(renewed, 'delivered', 'the lead after the session expired');
        assert.equal(org.issued.length, sessions + 1);
        assert.equal(org.refused.filter((r) => r.path.endsWith(`/${renewed}`)).length, 1);
        assert.equal(org.count(), 3);

        const output = app.output();
        for (const value of [customer.FirstName, customer.LastName, customer.Email, customer.Phone, customer.Company, badEmail, clientSecret, ...org.issued]) {
            assert.ok(!output.includes(value), `the app's output holds "${value}"`);
        }
        assert.match(output, new RegExp(`Lead ${bad}: salesforce-api a permanent failure; moved to leads-poison\\. Salesforce answered 400 with error code "INVALID_EMAIL_ADDRESS", field "Email"\\.`));
    });
});
