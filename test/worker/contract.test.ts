import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { appEntryFiles } from '../../src/host/loadApp';
import { leadIdsIn, parseMail } from '../helpers/mime';
import { buildRoot, msftTestForm, projectRoot, sampleText } from '../helpers/samples';
import type { RpcBindingInfo, RpcInvocationRequest, RpcInvocationResponse, RpcLogCategory, RpcLogLevel, RpcTypedData } from './coreTypes';
import type * as FakeCore from './fakeFunctionsCore';
import { appFunctionNames } from '../helpers/functions';

/*
 * Runs in a child process whose NODE_PATH resolves `@azure/functions-core` to the fake (see
 * workerContract.test.ts), so `@azure/functions` is not in test mode: it registers through the
 * worker's API and converts invocations with its own code, as in Azure.
 *
 * Shapes, and where they come from:
 * - The worker (Azure/azure-functions-nodejs-worker 3.x, src/eventHandlers/InvocationHandler.ts)
 *   builds a CoreInvocationContext { invocationId, request, metadata, state, log } and calls
 *   getInvocationModel → getArguments → invokeFunction → getResponse; at start-up, after loading
 *   the files of package.json "main", it asks getCapabilities, which starts the HTTP proxy when
 *   streaming is on.
 * - The host (Azure/azure-functions-host, src/WebJobs.Script.Grpc/MessageExtensions/
 *   GrpcMessageConversionExtensions.cs, ToRpcHttp) sends an empty `http` input once the worker
 *   reports HttpUri, and forwards the request itself to that address with `x-ms-invocation-id`
 *   (DefaultHttpProxyService, YARP, which adds X-Forwarded-Host and -Proto); the headers also
 *   travel as the `Headers` trigger metadata. Without streaming, ToRpcHttp copies a body only when
 *   `request.ContentLength > 0`: a chunked body never arrives.
 * - A queue message reaches the worker base64-decoded (host.json messageEncoding) as a string.
 * - A timer passes { Schedule, ScheduleStatus, IsPastDue } as JSON.
 */

// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded by the name the library loads it by, which has no typings here
const core = require('@azure/functions-core') as typeof FakeCore;
const env = (name: string): string => process.env[name] ?? assert.fail(`${name} is not set for the worker-contract child.`);

function binding(functionName: string, direction: 'in' | 'out', match: (b: RpcBindingInfo) => boolean = () => true): [string, RpcBindingInfo] {
    const registered = core.registered.get(functionName) ?? assert.fail(`The function "${functionName}" is not registered.`);
    const found = Object.entries(registered.metadata.bindings).find(([, b]) => b.direction === direction && match(b));
    return found ?? assert.fail(`The function "${functionName}" has no "${direction}" binding.`);
}

const isTrigger = (b: RpcBindingInfo) => /Trigger$/.test(String(b.type));

/** A binding without its name, which the library makes from a hash of its options. */
function unnamed(b: RpcBindingInfo): Omit<RpcBindingInfo, 'name'> {
    const { name: _name, ...rest } = b;
    return rest;
}

/** What the worker does with one InvocationRequest for a function. */
async function invoke(functionName: string, request: RpcInvocationRequest): Promise<RpcInvocationResponse> {
    const registered = core.registered.get(functionName) ?? assert.fail(`The function "${functionName}" is not registered.`);
    const invocationId = request.invocationId ?? randomUUID();
    const coreContext = {
        invocationId,
        request: { ...request, invocationId },
        metadata: { name: functionName, bindings: registered.metadata.bindings, functionId: functionName },
        state: undefined as 'invocation' | undefined,
        log: (level: RpcLogLevel, category: RpcLogCategory, message: string) => core.log(level, category, message),
    };
    const model = await core.getProgrammingModel().getInvocationModel(coreContext);
    const { context, inputs } = await model.getArguments();
    coreContext.state = 'invocation';
    const result = await model.invokeFunction(context, inputs, registered.callback);
    coreContext.state = undefined;
    return model.getResponse(context, result);
}

interface ProxiedAnswer {
    status: number;
    body: string;
    invocation: RpcInvocationResponse;
}

/** An HTTP invocation with streaming on: the host forwards the request to the worker's proxy and sends the invocation beside it. */
async function postThroughProxy(httpUri: string, body: string, contentType: string, framing: 'content-length' | 'chunked'): Promise<ProxiedAnswer> {
    const invocationId = randomUUID();
    const [triggerName] = binding('receiveLead', 'in', isTrigger);
    const headers: OutgoingHttpHeaders = { 'content-type': contentType, 'x-ms-invocation-id': invocationId, 'x-forwarded-host': 'contoso-leads.azurewebsites.net', 'x-forwarded-proto': 'https' };
    if (framing === 'chunked') headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(Buffer.byteLength(body));
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(new URL('api/leads?code=key', httpUri), { method: 'POST', headers }, (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        // Chunked: written in pieces, as a sender that streams does, with no length up front.
        for (let at = 0; at < body.length; at += 4096) req.write(body.slice(at, at + 4096));
        req.end();
    });
    const hostHeaders = { 'content-type': contentType, host: 'contoso-leads.azurewebsites.net', ...(framing === 'chunked' ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(Buffer.byteLength(body)) }) };
    const triggerMetadata: Record<string, RpcTypedData> = { Headers: { json: JSON.stringify(hostHeaders) }, Query: { json: JSON.stringify({ code: 'key' }) } };
    const invocation = invoke('receiveLead', { invocationId, inputData: [{ name: triggerName, data: { http: {} } }], triggerMetadata });
    const [reply, response] = await Promise.all([answer, invocation]);
    return { ...reply, invocation: response };
}

async function queuedLeadTexts(queueName: string): Promise<string[]> {
    const queue = new QueueClient(env('AzureWebJobsStorage'), queueName);
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
    for (const item of receivedMessageItems) await queue.deleteMessage(item.messageId, item.popReceipt);
    return receivedMessageItems.map((item) => Buffer.from(item.messageText, 'base64').toString('utf8'));
}

describe('the app as the Node worker runs it in Azure', () => {
    let httpUri = '';

    before(async () => {
        // As the worker: load every file of package.json "main", then ask for the capabilities.
        for (const file of appEntryFiles(projectRoot, buildRoot)) await import(file);
        const capabilities = (await core.getProgrammingModel().getCapabilities?.({})) ?? {};
        httpUri = capabilities.HttpUri ?? '';
    });

    it('registers each function once, with the bindings the app means', () => {
        const names = [...core.registered.keys()].sort();
        assert.deepEqual(names, appFunctionNames);
        const input = { direction: 'in', properties: { supportsDeferredBinding: 'false' } };
        assert.deepEqual(unnamed(binding('receiveLead', 'in', isTrigger)[1]), { type: 'httpTrigger', authLevel: 'function', methods: ['POST'], route: 'leads', ...input });
        // Anonymous at the function level: App Service Authentication signs people in, the console checks who (src/console/access.ts).
        assert.deepEqual(unnamed(binding('leadConsole', 'in', isTrigger)[1]), { type: 'httpTrigger', authLevel: 'anonymous', methods: ['GET', 'POST'], route: 'console/{*path}', ...input });
        const outputs = Object.entries(core.registered.get('receiveLead')?.metadata.bindings ?? {}).filter(([, b]) => b.direction === 'out');
        assert.deepEqual(
            outputs.map(([key, b]) => [key, unnamed(b)]),
            [['$return', { type: 'http', direction: 'out' }]],
            'the HTTP answer is the return value',
        );
        const triggerOf = (name: string) => unnamed(binding(name, 'in', isTrigger)[1]);
        assert.deepEqual(triggerOf('deliverLead'), { type: 'queueTrigger', queueName: '%LEADS_QUEUE%', connection: 'AzureWebJobsStorage', ...input });
        const functionNames: Record<string, string> = {
            table: 'deliverTable',
            webhook: 'deliverWebhook',
            dynamics: 'deliverDynamics',
            salesforce: 'deliverSalesforce',
            'salesforce-api': 'deliverSalesforceApi',
            marketo: 'deliverMarketo',
            hubspot: 'deliverHubspot',
            teams: 'deliverTeams',
            slack: 'deliverSlack',
        };
        for (const [destination, name] of Object.entries(functionNames)) {
            assert.deepEqual(triggerOf(name), { type: 'queueTrigger', queueName: `%LEADS_QUEUE%-${destination}`, connection: 'AzureWebJobsStorage', ...input });
        }
        assert.deepEqual(triggerOf('notifyContacts'), { type: 'timerTrigger', schedule: '%NOTIFY_SCHEDULE%', ...input });
        assert.deepEqual(triggerOf('sendAlerts'), { type: 'timerTrigger', schedule: '%ALERT_SCHEDULE%', ...input });
        assert.deepEqual(triggerOf('checkDestinations'), { type: 'timerTrigger', schedule: '%CHECK_SCHEDULE%', ...input });
        for (const { metadata } of core.registered.values()) assert.equal(metadata.retryOptions, undefined, `${metadata.name}: the queue's own retries and poison queue, not a retry policy`);
    });

    it('reports HTTP streaming to the host, with the address of its proxy', () => {
        assert.match(httpUri, /^http:\/\/localhost:\d+\/$/);
    });

    it('answers 202 for a JSON lead with a Content-Length, and a form, and puts each on the queue', async () => {
        const sample = sampleText('https-endpoint-example.json');
        const jsonAnswer = await postThroughProxy(httpUri, sample, 'application/json', 'content-length');
        assert.equal(jsonAnswer.status, 202, jsonAnswer.body);
        assert.deepEqual(jsonAnswer.invocation.outputData, [], 'the answer went through the proxy');
        const form = await postThroughProxy(httpUri, msftTestForm().toString(), 'application/x-www-form-urlencoded', 'content-length');
        assert.equal(form.status, 202, form.body);
        const queued = (await queuedLeadTexts(env('LEADS_QUEUE'))).map((text) => JSON.parse(text) as { id: string });
        assert.deepEqual(queued.map((lead) => lead.id).sort(), [jsonAnswer, form].map((a) => (JSON.parse(a.body) as { id: string }).id).sort());
    });

    it('answers 202 for a chunked lead, with no Content-Length, and queues it whole (lost before streaming: the host sent no body)', async () => {
        const sample = sampleText('https-endpoint-example.json');
        const answer = await postThroughProxy(httpUri, sample, 'application/json', 'chunked');
        assert.equal(answer.status, 202, answer.body);
        const [text, ...more] = await queuedLeadTexts(env('LEADS_QUEUE'));
        assert.equal(more.length, 0);
        assert.equal((JSON.parse(text ?? '{}') as { customer?: { email?: string } }).customer?.email, 'someone@contoso.com');
    });

    it('answers 413 for a chunked body over 64 KiB, 400 for a body that is not JSON, 415 for plain text, and queues none', async () => {
        const big = JSON.stringify({ LeadSource: 'AzureMarketplace', Description: 'x'.repeat(70 * 1024) });
        assert.equal((await postThroughProxy(httpUri, big, 'application/json', 'chunked')).status, 413);
        assert.equal((await postThroughProxy(httpUri, '{"LeadSource":', 'application/json', 'chunked')).status, 400);
        const plain = await postThroughProxy(httpUri, 'hello', 'text/plain', 'content-length');
        assert.equal(plain.status, 415);
        assert.match(plain.body, /application\/json/);
        assert.deepEqual(await queuedLeadTexts(env('LEADS_QUEUE')), []);
    });

    it('delivers a queue message passed as the host passes it (base64-decoded JSON, as a string) into the table', async () => {
        const answer = await postThroughProxy(httpUri, sampleText('https-endpoint-example.json'), 'application/json', 'content-length');
        const { id } = JSON.parse(answer.body) as { id: string };
        const [message] = await queuedLeadTexts(env('LEADS_QUEUE'));
        assert.ok(message);
        const [triggerName] = binding('deliverLead', 'in', isTrigger);
        const now = JSON.stringify(new Date().toISOString());
        const triggerMetadata: Record<string, RpcTypedData> = {
            DequeueCount: { int: 1 },
            Id: { string: randomUUID() },
            InsertionTime: { json: now },
            NextVisibleTime: { json: now },
            ExpirationTime: { json: now },
            PopReceipt: { string: 'pop' },
            QueueTrigger: { string: message },
        };
        await invoke('deliverLead', { inputData: [{ name: triggerName, data: { string: message } }], triggerMetadata });
        const table = TableClient.fromConnectionString(env('AzureWebJobsStorage'), env('LEADS_TABLE'), { allowInsecureConnection: true });
        const rows = [];
        for await (const row of table.listEntities({ queryOptions: { filter: `LeadId eq '${id}'` } })) rows.push(row);
        assert.equal(rows.length, 1);
    });

    it("mails a digest when the timer fires with the host's timer data", async () => {
        const [triggerName] = binding('notifyContacts', 'in', isTrigger);
        const timer = { Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: false };
        await invoke('notifyContacts', { inputData: [{ name: triggerName, data: { json: JSON.stringify(timer) } }], triggerMetadata: {} });
        const outbox = env('OUTBOX_DIR');
        const files = existsSync(outbox) ? readdirSync(outbox).filter((name) => name.endsWith('.eml')) : [];
        assert.equal(files.length, 1);
        const mail = parseMail(readFileSync(join(outbox, files[0] ?? ''), 'utf8'));
        assert.equal(leadIdsIn(mail).length, 1);
    });
});
