import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import type { Lead } from '../../src/lead/lead';
import { freePort, startApp, type RunningApp } from '../helpers/processes';
import { drainQueue } from '../helpers/queues';
import { documentedSample, msftTestForm, sampleText } from '../helpers/samples';

const json = 'application/json';

describe('POST /api/leads against real Azurite and the local host', () => {
    let azurite: Azurite;
    let app: RunningApp;

    before(async () => {
        azurite = await startAzurite();
        // The delivery function is switched off so that the stored messages stay on the queue to be read.
        app = await startApp({ env: { AzureWebJobsStorage: azurite.connectionString, LEADS_QUEUE: 'leads', 'AzureWebJobs.deliverLead.Disabled': 'true' }, port: await freePort() });
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await app?.stop();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    async function post(body: string | Uint8Array | URLSearchParams, contentType: string | undefined) {
        const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
        const response = await fetch(`${app.url}/api/leads`, { method: 'POST', headers, body });
        const text = await response.text();
        return { status: response.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined, headers: response.headers };
    }

    async function queued(): Promise<Lead[]> {
        return (await drainQueue(azurite.connectionString, 'leads')).map((m) => m.value as Lead);
    }

    it('stores the documented sample on the leads queue as base64 JSON and answers 202 with its id', async () => {
        const response = await post(sampleText('https-endpoint-example.json'), json);
        assert.equal(response.status, 202);
        const id = response.json?.id;
        assert.match(String(id), /^[0-9a-f]{32}$/);
        const leads = await queued();
        assert.equal(leads.length, 1);
        assert.equal(leads[0]?.id, id);
        assert.equal(leads[0]?.customer.email, 'someone@contoso.com');
        assert.equal(leads[0].action, 'INS');
    });

    it('accepts the MSFT_TEST lead posted as a form and flags it as a test lead', async () => {
        const response = await post(msftTestForm(), 'application/x-www-form-urlencoded');
        assert.equal(response.status, 202);
        const [lead] = await queued();
        assert.equal(lead?.id, response.json?.id);
        assert.equal(lead?.isTest, true);
        assert.equal(lead.format, 'form');
    });

    it('gives the same lead posted twice the same id, and queues both', async () => {
        const body = JSON.stringify(documentedSample());
        const first = await post(body, json);
        const second = await post(body, json);
        assert.equal(first.json?.id, second.json?.id);
        assert.equal((await queued()).length, 2);
    });

    it("gives a retried lead without personal data (.edu) the id of the first POST, and another customer's another id", async () => {
        const edu = JSON.stringify({ UserDetails: { FirstName: '', Email: '' }, LeadSource: 'AzureMarketplace-PLT|contoso.analytics', OfferTitle: 'Contoso Analytics' });
        const [first, retry, other] = [await post(edu, json), await post(edu, json), await post(edu.replace('PLT', 'INS'), json)];
        assert.deepEqual([first.status, retry.status, other.status], [202, 202, 202]);
        assert.equal(retry.json?.id, first.json?.id, 'the same body again within the window is a retry');
        assert.notEqual(other.json?.id, first.json?.id);
        const leads = await queued();
        assert.equal(leads.length, 3);
        assert.notEqual(leads[0]?.receiptId, leads[1]?.receiptId, 'each POST is still counted');
    });

    it('accepts a charset parameter and a UTF-8 byte-order mark', async () => {
        const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ LeadSource: 'AzureMarketplace', UserDetails: { FirstName: 'Zoë' } }))]);
        const response = await post(bom, 'application/json; charset=UTF-8');
        assert.equal(response.status, 202);
        assert.equal((await queued())[0]?.customer.firstName, 'Zoë');
    });

    it('answers 415 for another content type, or none', async () => {
        for (const type of ['text/plain', 'multipart/form-data; boundary=x', undefined]) {
            const response = await post(JSON.stringify(documentedSample()), type);
            assert.equal(response.status, 415, String(type));
            assert.match(String(response.json?.error), /application\/json/);
        }
        assert.equal((await post('{}', 'application/json; charset=klingon')).status, 415);
    });

    it('stores a lead whose body comes chunked, with no Content-Length (the host streams it, as Azure does with HTTP streaming on)', async () => {
        const text = sampleText('https-endpoint-example.json');
        const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
            const req = httpRequest(`${app.url}/api/leads`, { method: 'POST', headers: { 'content-type': json, 'transfer-encoding': 'chunked' } }, (res) => {
                let received = '';
                res.on('data', (chunk: Buffer) => (received += chunk.toString()));
                res.on('end', () => resolve({ status: res.statusCode ?? 0, body: received }));
            });
            req.on('error', reject);
            for (let at = 0; at < text.length; at += 100) req.write(text.slice(at, at + 100));
            req.end();
        });
        assert.equal(status, 202, body);
        const [lead, ...more] = await queued();
        assert.equal(more.length, 0);
        assert.equal(lead?.id, (JSON.parse(body) as { id: string }).id);
        assert.equal(lead.customer.email, 'someone@contoso.com');
    });

    it('answers 413 for a body over 64 KiB, whether or not it declares its length', async () => {
        const big = JSON.stringify({ LeadSource: 'AzureMarketplace', Description: 'x'.repeat(70 * 1024) });
        const declared = await post(big, json);
        assert.equal(declared.status, 413);
        const chunked = await new Promise<number>((resolve, reject) => {
            const req = httpRequest(`${app.url}/api/leads`, { method: 'POST', headers: { 'content-type': json, 'transfer-encoding': 'chunked' } }, (res) => {
                res.resume();
                resolve(res.statusCode ?? 0);
            });
            req.on('error', reject);
            for (let i = 0; i < 70; i++) req.write('x'.repeat(1024));
            req.end();
        });
        assert.equal(chunked, 413);
    });

    it('answers 413 for a lead that fits the body limit but not a queue message', async () => {
        const response = await post(JSON.stringify({ LeadSource: 'AzureMarketplace', Description: 'é'.repeat(30 * 1024) }), json);
        assert.equal(response.status, 413);
        assert.match(String(response.json?.error), /queue message/);
    });

    it('answers 400 naming the problem for bad JSON bodies, and stores nothing', async () => {
        const cases: [string, RegExp][] = [
            ['[1,2]', /expected a JSON object, got an array/],
            ['"a lead"', /expected a JSON object, got a string/],
            ['{"UserDetails": "Some One", "LeadSource": "AzureMarketplace"}', /UserDetails: expected an object/],
            ['{"UserDetails": {"Email": ', /not valid JSON/],
            ['', /empty/],
            [`{"LeadSource":"x","a":${'['.repeat(100)}${']'.repeat(100)}}`, /nests 101 levels/],
            ['{"UserDetails": {"FirstName": {"first": "Some"}}}', /UserDetails\.FirstName: expected text, got an object/],
        ];
        for (const [body, message] of cases) {
            const response = await post(body, json);
            assert.equal(response.status, 400, body.slice(0, 40));
            assert.match(String(response.json?.error), message);
            assert.doesNotMatch(response.text, /\n\s+at /);
        }
        assert.equal((await queued()).length, 0);
    });

    it('answers 404 for other methods and paths, as Azure does', async () => {
        assert.equal((await fetch(`${app.url}/api/leads`)).status, 404);
        assert.equal((await fetch(`${app.url}/api/nothing`, { method: 'POST' })).status, 404);
    });

    it('keeps the customer out of the logs', async () => {
        await post(JSON.stringify({ UserDetails: { FirstName: 'Quentin', LastName: 'Privatus', Email: 'quentin.privatus@contoso.com', Phone: '+1 555 0199' }, LeadSource: 'AzureMarketplace-INS|a.b' }), json);
        await post('{"UserDetails": {"Email": "quentin.privatus@contoso.com"', json);
        await queued();
        const log = app.output();
        assert.match(log, /Accepted lead [0-9a-f]{32}/);
        for (const secret of ['Quentin', 'Privatus', 'quentin.privatus', '555 0199']) assert.equal(log.includes(secret), false, secret);
    });
});

describe('POST /api/leads when storage is down', () => {
    it('answers 503 within seconds when storage accepts connections and never answers', async () => {
        const sockets = new Set<Socket>();
        const blackHole = createServer((socket) => void sockets.add(socket));
        await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
        const { port } = blackHole.address() as AddressInfo;
        const connection = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${Buffer.from('k').toString('base64')};QueueEndpoint=http://127.0.0.1:${port}/devstoreaccount1`;
        const app = await startApp({ env: { AzureWebJobsStorage: connection, 'AzureWebJobs.deliverLead.Disabled': 'true', 'AzureWebJobs.notifyContacts.Disabled': 'true' }, port: await freePort() });
        try {
            const started = Date.now();
            const response = await fetch(`${app.url}/api/leads`, { method: 'POST', headers: { 'content-type': json }, body: JSON.stringify(documentedSample()) });
            assert.equal(response.status, 503);
            assert.ok(Date.now() - started < 30_000, "well before the host's functionTimeout");
        } finally {
            await app.stop();
            for (const socket of sockets) socket.destroy();
            blackHole.close();
        }
    });

    it('answers 503 with Retry-After, never 2xx', async () => {
        const deadPort = await freePort();
        const connection = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${Buffer.from('k').toString('base64')};QueueEndpoint=http://127.0.0.1:${deadPort}/devstoreaccount1`;
        const app = await startApp({ env: { AzureWebJobsStorage: connection }, port: await freePort() });
        try {
            const response = await fetch(`${app.url}/api/leads`, { method: 'POST', headers: { 'content-type': json }, body: JSON.stringify(documentedSample()) });
            assert.equal(response.status, 503);
            assert.equal(response.headers.get('retry-after'), '10');
            assert.match(((await response.json()) as { error: string }).error, /could not be stored/);
        } finally {
            await app.stop();
        }
    });
});
