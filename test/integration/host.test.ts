import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { QueueClient } from '@azure/storage-queue';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { startHost, type RunningHost } from '../../src/host/host';
import { encodeQueueMessage } from '../../src/queue/message';
import { calls } from '../fixtures/hostApp';
import { drainQueue, eventually } from '../helpers/queues';
import { tempDir } from '../helpers/processes';

describe('the local Functions host', () => {
    let azurite: Azurite;
    let host: RunningHost;
    let queue: QueueClient;

    before(async () => {
        azurite = await startAzurite();
        const root = tempDir('host');
        writeFileSync(
            join(root, 'host.json'),
            JSON.stringify({
                version: '2.0',
                functionTimeout: '00:00:05',
                extensions: { queues: { maxPollingInterval: '00:00:00.200', visibilityTimeout: '00:00:00', maxDequeueCount: 2, batchSize: 4 } },
            }),
        );
        queue = new QueueClient(azurite.connectionString, 'work');
        await queue.create();
        host = await startHost({
            root,
            port: 0,
            files: [require.resolve('../fixtures/hostApp')],
            env: { WORK_QUEUE: 'work', WORK_STORAGE: azurite.connectionString, TICK_SCHEDULE: '*/1 * * * * *' },
        });
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await host?.stop();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    it('lists its functions as func start does', () => {
        const lines = host.describe();
        assert.ok(
            lines.some((l) => /^echo: \[GET,POST\] http:\/\/localhost:\d+\/api\/echo\/\{id\?\}$/.test(l)),
            lines.join('\n'),
        );
        assert.ok(lines.includes('work: queueTrigger (work)'));
        assert.ok(lines.includes('tick: timerTrigger (*/1 * * * * *)'));
    });

    it('serves HTTP functions with route parameters, query, body and headers', async () => {
        const response = await fetch(`${host.url}/api/echo/42?q=yes`, { method: 'POST', body: 'hello' });
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('x-echo'), 'yes');
        assert.deepEqual(await response.json(), { id: '42', q: 'yes', method: 'POST', body: 'hello' });
        assert.equal(((await (await fetch(`${host.url}/api/echo`)).json()) as { id: unknown }).id, null);
    });

    it('streams a chunked body to the function, and refuses one past the 100 MB limit with 413', async () => {
        const pieces = (count: number, size: number) =>
            new ReadableStream<Uint8Array>({
                pull(controller) {
                    if (count-- === 0) controller.close();
                    else controller.enqueue(new Uint8Array(size).fill(0x61));
                },
            });
        const small = await fetch(`${host.url}/api/echo/1`, { method: 'POST', body: pieces(3, 5), duplex: 'half' });
        assert.equal(((await small.json()) as { body: string }).body, 'a'.repeat(15));
        const huge = await fetch(`${host.url}/api/echo/2`, { method: 'POST', body: pieces(101, 1024 * 1024), duplex: 'half' }).catch(() => undefined);
        assert.equal(huge?.status, 413);
    });

    it('answers a bare 500 when a function throws, with no details', async () => {
        const response = await fetch(`${host.url}/api/boom`);
        assert.equal(response.status, 500);
        assert.equal(await response.text(), '');
    });

    it('hands a base64 JSON message to the queue function as an object, then deletes it', async () => {
        await queue.sendMessage(encodeQueueMessage({ hello: 'world' }));
        const call = await eventually(() => calls.find((c) => c.name === 'work' && JSON.stringify(c.input) === '{"hello":"world"}'), 10_000, 'the queue function');
        assert.equal(call.metadata?.dequeueCount, 1);
        assert.equal(call.metadata.queueTrigger, '{"hello":"world"}');
        await eventually(async () => ((await queue.getProperties()).approximateMessagesCount === 0 ? true : undefined), 5000, 'the message to be deleted');
    });

    it('retries a failing message maxDequeueCount times, then moves it unchanged to <queue>-poison', async () => {
        const text = encodeQueueMessage({ fail: 'always' });
        await queue.sendMessage(text);
        const poisoned = await eventually(
            async () => {
                const messages = await drainQueue(azurite.connectionString, 'work-poison');
                return messages.length > 0 ? messages : undefined;
            },
            15_000,
            'the poison queue',
        );
        assert.equal(poisoned[0]?.text, text);
        const attempts = calls.filter((c) => c.name === 'work' && JSON.stringify(c.input) === '{"fail":"always"}');
        assert.deepEqual(
            attempts.map((c) => c.metadata?.dequeueCount),
            [1, 2],
        );
    });

    it('never hands a message that is not base64 to the function, and poisons it', async () => {
        await queue.sendMessage('{"plain": "text"}');
        const poisoned = await eventually(
            async () => {
                const messages = await new QueueClient(azurite.connectionString, 'work-poison').receiveMessages();
                return messages.receivedMessageItems[0];
            },
            15_000,
            'the poison queue',
        );
        assert.equal(poisoned.messageText, '{"plain": "text"}');
        assert.equal(
            calls.some((c) => c.name === 'work' && JSON.stringify(c.input).includes('plain')),
            false,
        );
    });

    it('runs timer functions on their %SETTING% schedule', async () => {
        const tick = await eventually(() => calls.find((c) => c.name === 'tick'), 3000, 'a timer tick');
        assert.equal((tick.input as { isPastDue: boolean }).isPastDue, false);
    });

    it('runs a non-HTTP function now on POST /admin/functions/{name}', async () => {
        const before = calls.length;
        const response = await fetch(`${host.url}/admin/functions/work`, { method: 'POST', body: JSON.stringify({ input: '{"from":"admin"}' }) });
        assert.equal(response.status, 202);
        await eventually(() => calls.slice(before).find((c) => JSON.stringify(c.input) === '{"from":"admin"}'), 3000, 'the admin call');
        assert.equal((await fetch(`${host.url}/admin/functions/nothing`, { method: 'POST' })).status, 404);
        assert.equal((await fetch(`${host.url}/admin/functions/%E0`, { method: 'POST' })).status, 404, 'a malformed escape is not a 500');
    });

    it('refuses an admin body past 64 KiB as it streams, whether it declares its length or not', async () => {
        const declared = await fetch(`${host.url}/admin/functions/work`, { method: 'POST', body: JSON.stringify({ input: 'x'.repeat(70 * 1024) }) });
        assert.equal(declared.status, 413);
        assert.deepEqual(await declared.json(), { error: `The request body is larger than ${64 * 1024} bytes.` });
        // 95 MB, chunked: refused at the limit, so the host never holds more than a chunk past it.
        let sent = 0;
        const chunk = new Uint8Array(64 * 1024);
        const body = new ReadableStream<Uint8Array>({
            pull(controller) {
                if (sent >= 95 * 1024 * 1024) {
                    controller.close();
                    return;
                }
                sent += chunk.length;
                controller.enqueue(chunk);
            },
        });
        const chunked = await fetch(`${host.url}/admin/functions/work`, { method: 'POST', body, duplex: 'half' });
        assert.equal(chunked.status, 413);
        assert.ok(sent < 95 * 1024 * 1024, `the host stopped reading after ${sent} bytes`);
    });
});
