import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { appEntryFiles } from '../../src/host/loadApp';
import { leadIdsIn, parseMail } from '../helpers/mime';
import { buildRoot, msftTestForm, projectRoot, sampleText } from '../helpers/samples';
import type { RpcBindingInfo, RpcTypedData } from './coreTypes';
import { binding, core, invoke, isTrigger, postThroughProxy as post, startAppAsWorker, type ProxiedAnswer } from './invoke';
import { appFunctionNames } from '../helpers/functions';

/*
 * Runs in a child process whose NODE_PATH resolves `@azure/functions-core` to the fake (see
 * workerContract.test.ts), so `@azure/functions` is not in test mode: it registers through the
 * worker's API and converts invocations with its own code, as in Azure (see invoke.ts for the
 * shapes of the worker's and the host's messages, and where they come from).
 * - A queue message reaches the worker base64-decoded (host.json messageEncoding) as a string.
 * - A timer passes { Schedule, ScheduleStatus, IsPastDue } as JSON.
 */

const env = (name: string): string => process.env[name] ?? assert.fail(`${name} is not set for the worker-contract child.`);

/** A binding without its name, which the library makes from a hash of its options. */
function unnamed(b: RpcBindingInfo): Omit<RpcBindingInfo, 'name'> {
    const { name: _name, ...rest } = b;
    return rest;
}

function postThroughProxy(httpUri: string, body: string, contentType: string, framing: 'content-length' | 'chunked'): Promise<ProxiedAnswer> {
    return post(httpUri, { functionName: 'receiveLead', body, contentType, framing });
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
        httpUri = await startAppAsWorker(appEntryFiles(projectRoot, buildRoot));
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
        // LEAD_DESTINATIONS=table: the other destinations' triggers are not registered (workerContract.test.ts checks each configuration).
        assert.deepEqual(triggerOf('deliverTable'), { type: 'queueTrigger', queueName: '%LEADS_QUEUE%-table', connection: 'AzureWebJobsStorage', ...input });
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
