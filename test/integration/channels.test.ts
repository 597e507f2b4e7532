import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { readSettings } from '../../src/config/settings';
import { DeliveryFailure, type DeliveryContext, type DeliveryOutcome, type Destination } from '../../src/deliver/destination';
import { SlackDestination } from '../../src/deliver/destinations/slack';
import { TeamsDestination } from '../../src/deliver/destinations/teams';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { parseLead } from '../../src/intake/parseLead';
import type { Lead } from '../../src/lead/lead';
import { json, startTestServer, type RecordedRequest, type Responder, type TestServer } from '../helpers/httpServer';
import { freePort, postLead, startApp, type RunningApp } from '../helpers/processes';
import { eventually } from '../helpers/queues';

const teamsPath = '/workflows/0a1b/triggers/manual/paths/invoke?api-version=1&sig=channels-test-sig';
const slackPath = '/services/T0001/B0001/channels-test-token';

/** What is wrong with a body a Workflows "post to a channel when a webhook request is received" flow takes, or undefined. */
function teamsProblem(request: RecordedRequest): string | undefined {
    if (request.method !== 'POST' || !/^application\/json/.test(String(request.headers['content-type']))) return 'not a JSON POST';
    let message: { type?: unknown; attachments?: { contentType?: unknown; content?: Record<string, unknown> }[] };
    try {
        message = JSON.parse(request.body) as typeof message;
    } catch {
        return 'not JSON';
    }
    if (message.type !== 'message' || !Array.isArray(message.attachments) || message.attachments.length !== 1) return 'not a message with one attachment';
    const [attachment] = message.attachments;
    const card = attachment?.content;
    if (attachment?.contentType !== 'application/vnd.microsoft.card.adaptive' || !card) return 'not an adaptive card';
    if (card.type !== 'AdaptiveCard' || card.version !== '1.4' || card.$schema !== 'http://adaptivecards.io/schemas/adaptive-card.json') return 'not an adaptive card 1.4';
    const body = card.body as { type?: unknown }[] | undefined;
    const actions = card.actions as { type?: unknown; url?: unknown }[] | undefined;
    if (!Array.isArray(body) || body.length === 0 || !body.every((e) => typeof e.type === 'string')) return 'no card body';
    if (!Array.isArray(actions) || !actions.every((a) => a.type === 'Action.OpenUrl' && typeof a.url === 'string' && URL.canParse(a.url))) return 'bad actions';
    return undefined;
}

/** A Workflows trigger: 202 for a valid card; Logic Apps' error shape, echoing the request, otherwise. */
function teamsReceiver(accepted: RecordedRequest[]): Responder {
    return (request, res) => {
        const problem = teamsProblem(request);
        if (problem) return json(res, 400, { error: { code: 'InvalidRequestContent', message: `${problem}: ${request.body}` } });
        if (request.body.includes('Teams400')) return json(res, 400, { error: { code: 'TriggerInputSchemaMismatch', message: `The input ${request.body} does not match.` } });
        accepted.push(request);
        res.writeHead(202).end();
    };
}

const leadIdIn = (body: string) => /[0-9a-f]{32}/.exec(body)?.[0] ?? '';

/** An incoming webhook: `ok`, or Slack's plain-text errors, chosen by a word in the company's name. */
function slackReceiver(): Responder {
    const calls = new Map<string, number>();
    return (request, res: ServerResponse) => {
        const text = (status: number, body: string, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(body);
        let message: { text?: unknown; blocks?: unknown };
        try {
            message = JSON.parse(request.body) as typeof message;
        } catch {
            return text(400, 'invalid_payload');
        }
        if (typeof message.text !== 'string' || !Array.isArray(message.blocks)) return text(400, 'no_text');
        const id = leadIdIn(request.body);
        const count = (calls.get(id) ?? 0) + 1;
        calls.set(id, count);
        if (request.body.includes('Retry503') && count <= 2) return text(503, `upstream failure for ${request.body}`);
        if (request.body.includes('Retry429') && count === 1) return text(429, 'rate_limited', { 'retry-after': '1' });
        if (request.body.includes('Refused400')) return text(400, 'invalid_payload');
        if (request.body.includes('Gone404')) return text(404, 'no_service');
        if (request.body.includes('Hang')) return undefined;
        text(200, 'ok');
    };
}

const context: DeliveryContext = { attempt: 1, target: undefined, mode: 'create' };

function lead(company: string): Lead {
    const body = {
        UserDetails: { FirstName: 'Ada', LastName: 'Lovelace', Email: `ada+${company.split(' ')[0] ?? ''}@contoso.example`, Company: company },
        LeadSource: 'AzureMarketplace-INS|contoso.analytics',
        OfferTitle: 'Contoso Analytics',
    };
    return parseLead(JSON.stringify(body), 'json', { receivedAt: new Date(), receiptId: 'r1' });
}

async function outcomeOrFailure(run: Promise<DeliveryOutcome>): Promise<DeliveryOutcome | DeliveryFailure> {
    return run.catch((error: unknown) => {
        if (error instanceof DeliveryFailure) return error;
        throw error;
    });
}

describe('the teams and slack destinations against their contracts', () => {
    let teams: TestServer;
    let slack: TestServer;
    const accepted: RecordedRequest[] = [];

    before(async () => {
        teams = await startTestServer(teamsReceiver(accepted));
        slack = await startTestServer(slackReceiver());
    });

    after(async () => {
        await teams.close();
        await slack.close();
    });

    const makeSlack = (): Destination => SlackDestination.create(readSettings({ LEAD_DESTINATIONS: 'slack', SLACK_WEBHOOK_URL: `${slack.url}${slackPath}`, DELIVERY_TIMEOUT_SECONDS: '0.5' }));
    const makeTeams = (): Destination => TeamsDestination.create(readSettings({ LEAD_DESTINATIONS: 'teams', TEAMS_WEBHOOK_URL: `${teams.url}${teamsPath}`, DELIVERY_TIMEOUT_SECONDS: '0.5' }));

    it('Teams: a card the trigger accepts with 202 is delivered; a refusal keeps only its error code', async () => {
        assert.deepEqual(await makeTeams().deliver(lead('Contoso'), context), { state: 'delivered' });
        assert.equal(accepted.length, 1);
        const refused = await outcomeOrFailure(makeTeams().deliver(lead('Teams400 Ltd'), context));
        assert.ok(refused instanceof DeliveryFailure);
        assert.equal(refused.kind, 'permanent');
        assert.equal(refused.message, 'Teams answered 400 with error code "TriggerInputSchemaMismatch".');
    });

    it('Slack: ok is delivered; 503 and 429 (with its Retry-After) are transient; invalid_payload and no_service are permanent; no body is quoted', async () => {
        assert.deepEqual(await makeSlack().deliver(lead('Contoso'), context), { state: 'delivered' });
        const cases: [string, 'transient' | 'permanent', string, number | undefined][] = [
            ['Retry503 Ltd', 'transient', 'Slack answered 503.', undefined],
            ['Retry429 Ltd', 'transient', 'Slack answered 429 with error code "rate_limited".', 1000],
            ['Refused400 Ltd', 'permanent', 'Slack answered 400 with error code "invalid_payload".', undefined],
            ['Gone404 Ltd', 'permanent', 'Slack answered 404 with error code "no_service".', undefined],
        ];
        for (const [company, kind, message, retryAfter] of cases) {
            const failure = await outcomeOrFailure(makeSlack().deliver(lead(company), context));
            assert.ok(failure instanceof DeliveryFailure, company);
            assert.deepEqual([failure.kind, failure.message, failure.retryAfterMs], [kind, message, retryAfter]);
        }
    });

    it('a call that timed out after sending is uncertain, not retried into a second post', async () => {
        const outcome = await makeSlack().deliver(lead('Hang Ltd'), context);
        assert.deepEqual(outcome, { state: 'uncertain', reason: 'Slack did not answer within 500 ms; the Slack channel may show the lead already.' });
    });
});

describe('teams and slack through the app on the local host, with the table', () => {
    let azurite: Azurite;
    let app: RunningApp;
    let teams: TestServer;
    let slack: TestServer;
    const accepted: RecordedRequest[] = [];
    const customers = {
        fresh: { FirstName: 'Quillonia', LastName: 'Brackenridge', Email: 'quillonia.brackenridge@zyxwerth.example', Phone: '+1 425 555 0199', Company: 'Zyxwerth Holdings', Title: 'CTO', Country: 'US' },
        dnc: { FirstName: 'Ottoline', LastName: 'Vanterpool', Email: 'ottoline.vanterpool@gralvex.example', Phone: '+44 161 496 0321', Company: 'Gralvex Industries', Title: 'CIO', Country: 'GB' },
        retry503: { FirstName: 'Thaddeus', LastName: 'Quorrington', Email: 'thaddeus@plumvane.example', Phone: '+1 206 555 0143', Company: 'Retry503 Plumvane', Title: 'VP', Country: 'US' },
        retry429: { FirstName: 'Isolde', LastName: 'Marchbanks', Email: 'isolde@quenbury.example', Phone: '+33 1 70 36 00 12', Company: 'Retry429 Quenbury', Title: 'CEO', Country: 'FR' },
        refused400: { FirstName: 'Evander', LastName: 'Tillinghast', Email: 'evander@brightwold.example', Phone: '+49 30 901820 77', Company: 'Refused400 Brightwold', Title: 'CFO', Country: 'DE' },
        gone404: { FirstName: 'Perpetua', LastName: 'Ashcombe', Email: 'perpetua@corvellan.example', Phone: '+61 2 5550 1234', Company: 'Gone404 Corvellan', Title: 'COO', Country: 'AU' },
    };
    const personalValues = Object.values(customers).flatMap((c) => [c.FirstName, c.LastName, c.Email, c.Phone, c.Phone.replace(/\D/g, ''), c.Company]);

    before(async () => {
        azurite = await startAzurite();
        teams = await startTestServer(teamsReceiver(accepted));
        slack = await startTestServer(slackReceiver());
        app = await startApp({
            env: {
                AzureWebJobsStorage: azurite.connectionString,
                'AzureWebJobs.notifyContacts.Disabled': 'true',
                'AzureWebJobs.sendAlerts.Disabled': 'true',
                LEAD_DESTINATIONS: 'table,teams,slack',
                TEAMS_WEBHOOK_URL: `${teams.url}${teamsPath}`,
                SLACK_WEBHOOK_URL: `${slack.url}${slackPath}`,
                DELIVERY_RETRY_SECONDS: '1',
                DELIVERY_MAX_ATTEMPTS: '4',
                DELIVERY_TIMEOUT_SECONDS: '2',
            },
            port: await freePort(),
        });
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await app?.stop();
        await teams?.close();
        await slack?.close();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    const post = (customer: Record<string, string>, leadSource = 'AzureMarketplace-INS|contoso.analytics') => postLead(app.url, { UserDetails: customer, LeadSource: leadSource, OfferTitle: 'Contoso Analytics' });
    const teamsPosts = (id: string) => accepted.filter((r) => r.body.includes(id));
    const slackPosts = (id: string) => slack.requests.filter((r) => r.body.includes(id));

    async function record(id: string, destination: string): Promise<{ State: string; Attempts: number; LastError?: string } | undefined> {
        const table = TableClient.fromConnectionString(azurite.connectionString, 'LeadDeliveries', { allowInsecureConnection: true });
        return table.getEntity<{ State: string; Attempts: number; LastError?: string }>(id, destination).then(
            (entity) => entity,
            () => undefined,
        );
    }

    function settled(id: string, destination: string, state: string): Promise<{ State: string; Attempts: number; LastError?: string }> {
        return eventually(async () => ((await record(id, destination))?.State === state ? record(id, destination) : undefined), 20_000, `${destination} ${state} for ${id}`).catch((error: unknown) => {
            throw new Error(`${String(error)}\n${app.output()}`);
        });
    }

    it('posts a new lead once to each channel, masked, with a link to its console page; an update again, marked updated', async () => {
        const id = await post(customers.fresh);
        await Promise.all([settled(id, 'table', 'delivered'), settled(id, 'teams', 'delivered'), settled(id, 'slack', 'delivered')]);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        assert.equal(teamsPosts(id).length, 1);
        assert.equal(slackPosts(id).length, 1);

        const card = (JSON.parse(teamsPosts(id)[0]?.body ?? '{}') as { attachments: { content: { body: { text?: string; facts?: { title: string; value: string }[] }[]; actions: { url: string }[] } }[] }).attachments[0]
            ?.content;
        const facts = Object.fromEntries((card?.body.find((e) => e.facts)?.facts ?? []).map((f) => [f.title, f.value]));
        assert.deepEqual(facts, { Company: 'Zyxwerth Holdings', Title: 'CTO', Country: 'US', Name: 'Quillonia B.', 'E-mail': 'q\\*\\*\\*@zyxwerth.example', Phone: '\\*\\*\\*\\*\\*\\*\\*\\*\\*99', 'Lead id': id });
        assert.equal(card?.actions[0]?.url, `${app.url}/api/console/view/${id}`);
        const slackBody = slackPosts(id)[0]?.body ?? '';
        assert.match(slackBody, /"\*Name:\* Quillonia B\."/);
        assert.match(slackBody, /"\*E-mail:\* q∗∗∗@zyxwerth\.example"/);
        for (const body of [teamsPosts(id)[0]?.body ?? '', slackBody]) {
            assert.doesNotMatch(body, /Brackenridge|quillonia\.brackenridge|555 0199|4255550199/);
        }

        const updated = await post({ ...customers.fresh, Title: 'Chief Technology Officer' });
        assert.equal(updated, id);
        await eventually(() => (teamsPosts(id).length === 2 && slackPosts(id).length === 2 ? true : undefined), 20_000, 'the update in both channels');
        assert.match(teamsPosts(id)[1]?.body ?? '', /"Updated marketplace lead".*"UPDATED"/);
        assert.match(teamsPosts(id)[1]?.body ?? '', /Chief Technology Officer/);
        assert.match(slackPosts(id)[1]?.body ?? '', /"\*UPDATED\*"/);
    });

    it('posts a do-not-contact lead to neither channel: it goes to the table only', async () => {
        const id = await post(customers.dnc, 'AzureMarketplace-DNC|contoso.analytics');
        await settled(id, 'table', 'delivered');
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal(teamsPosts(id).length, 0);
        assert.equal(slackPosts(id).length, 0);
        assert.equal(await record(id, 'teams'), undefined);
        assert.equal(await record(id, 'slack'), undefined);
    });

    it('retries Slack on 503 and on 429 after its Retry-After, and poisons a lead on invalid_payload (400) and no_service (404) at once', async () => {
        const [retried503, retried429, refused, gone] = await Promise.all([post(customers.retry503), post(customers.retry429), post(customers.refused400), post(customers.gone404)]);
        const [r503, r429, r400, r404] = await Promise.all([settled(retried503, 'slack', 'delivered'), settled(retried429, 'slack', 'delivered'), settled(refused, 'slack', 'failed'), settled(gone, 'slack', 'failed')]);
        assert.equal(r503.Attempts, 3);
        assert.equal(r429.Attempts, 2);
        assert.deepEqual([r400.Attempts, r400.LastError], [1, 'Slack answered 400 with error code "invalid_payload".']);
        assert.deepEqual([r404.Attempts, r404.LastError], [1, 'Slack answered 404 with error code "no_service".']);
        assert.deepEqual([slackPosts(retried503).length, slackPosts(retried429).length, slackPosts(refused).length, slackPosts(gone).length], [3, 2, 1, 1]);
        await Promise.all([retried503, retried429, refused, gone].map((id) => settled(id, 'teams', 'delivered')));

        const poison = new QueueClient(azurite.connectionString, 'leads-poison');
        const poisoned = await eventually(
            async () => {
                const { peekedMessageItems } = await poison.peekMessages({ numberOfMessages: 32 }).catch(() => ({ peekedMessageItems: [] }));
                const found = peekedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as Lead & { delivery: { destination: string } });
                return found.filter((l) => l.delivery.destination === 'slack').length === 2 ? found : undefined;
            },
            10_000,
            'two poisoned Slack deliveries',
        );
        assert.deepEqual(poisoned.map((l) => l.id).sort(), [refused, gone].sort());
    });

    it('puts no customer name, e-mail, phone or company and no webhook secret in the app output or a delivery record', async () => {
        const table = TableClient.fromConnectionString(azurite.connectionString, 'LeadDeliveries', { allowInsecureConnection: true });
        const rows: string[] = [];
        for await (const row of table.listEntities()) rows.push(JSON.stringify(row));
        const output = app.output();
        assert.match(output, /slack failed \(attempt 1\)/);
        for (const value of [...personalValues, 'channels-test-sig', 'channels-test-token']) {
            assert.ok(!output.toLowerCase().includes(value.toLowerCase()), `the output holds "${value}"`);
            assert.deepEqual(
                rows.filter((r) => r.toLowerCase().includes(value.toLowerCase())),
                [],
                `a delivery record holds "${value}"`,
            );
        }
    });
});

describe('a do-not-contact lead when DNC_DESTINATIONS names the channels', () => {
    it('is posted to each, marked DO NOT CONTACT, with no contact details at all', async () => {
        const azurite = await startAzurite();
        const accepted: RecordedRequest[] = [];
        const teams = await startTestServer(teamsReceiver(accepted));
        const slack = await startTestServer(slackReceiver());
        let app: RunningApp | undefined;
        try {
            app = await startApp({
                env: {
                    AzureWebJobsStorage: azurite.connectionString,
                    'AzureWebJobs.notifyContacts.Disabled': 'true',
                    'AzureWebJobs.sendAlerts.Disabled': 'true',
                    LEAD_DESTINATIONS: 'table',
                    DNC_DESTINATIONS: 'table,teams,slack',
                    NOTIFY_PII: 'full',
                    TEAMS_WEBHOOK_URL: `${teams.url}${teamsPath}`,
                    SLACK_WEBHOOK_URL: `${slack.url}${slackPath}`,
                },
                port: await freePort(),
            });
            const customer = { FirstName: 'Wilhelmina', LastName: 'Fairweather', Email: 'wilhelmina@oxbarrow.example', Phone: '+1 312 555 0187', Company: 'Oxbarrow' };
            const id = await postLead(app.url, { UserDetails: customer, LeadSource: 'AzureMarketplace-DNC|contoso.analytics', OfferTitle: 'Contoso Analytics' });
            await eventually(() => (accepted.length === 1 && slack.requests.length === 1 ? true : undefined), 20_000, 'a post in each channel');
            for (const body of [accepted[0]?.body ?? '', slack.requests[0]?.body ?? '']) {
                assert.ok(body.includes(id) && body.includes('DO NOT CONTACT') && body.includes('do not contact'), body);
                assert.doesNotMatch(body, /Wilhelmina|Fairweather|wilhelmina@|555 0187/);
            }
        } finally {
            await app?.stop();
            await teams.close();
            await slack.close();
            await azurite.stop();
        }
    });
});
