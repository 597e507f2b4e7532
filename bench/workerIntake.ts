import { execFile } from 'node:child_process';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { QueueClient } from '@azure/storage-queue';
import type { Azurite } from '../src/host/azurite';
import { appEntryFiles } from '../src/host/loadApp';
import { buildRoot, projectRoot } from '../test/helpers/samples';
import { fakeCoreNodePath } from '../test/worker/fakeCoreModules';
import { sampleLead } from './sampleLead';
import { load, median, quantile, round } from './stats';

const run = promisify(execFile);

export interface HandlerRatio {
    /** Leads a second through the app's receiveLead, invoked as the Node worker invokes it. */
    handlerPerSec: number;
    /** The same, through a handler that only enqueues the body (bench/minimalApp/receive.ts). */
    enqueueOnlyPerSec: number;
    handlerP99ms: number;
    enqueueOnlyP99ms: number;
    ratio: number;
    concurrency: number;
    requestsPerRound: number;
    rounds: number;
}

/**
 * The app's intake handler against an enqueue-only handler, each invoked through `@azure/functions`
 * as the worker invokes it in Azure: the request goes to the library's HTTP proxy and the invocation
 * through its programming model (test/worker/invoke.ts), in a child process whose
 * `@azure/functions-core` is the worker-contract fake. No local host is involved; the load generator
 * shares the child with both handlers, as the host's proxy shares an instance with the worker.
 */
export async function benchHandler(azurite: Azurite, count: number, concurrency: number, rounds: number): Promise<HandlerRatio> {
    const env = { ...process.env, NODE_PATH: fakeCoreNodePath(buildRoot), AzureWebJobsStorage: azurite.connectionString, LEADS_QUEUE: 'worker-intake', MINIMAL_QUEUE: 'worker-minimal' };
    const args = [__filename, '--worker-child', String(count), String(concurrency), String(rounds)];
    const { stdout, stderr } = await run(process.execPath, args, { env, cwd: projectRoot, maxBuffer: 16 * 1024 * 1024 });
    for (const line of stderr.split('\n').filter((text) => text.startsWith('  worker round'))) process.stdout.write(`${line}\n`);
    return JSON.parse(stdout.trim().split('\n').pop() ?? '') as HandlerRatio;
}

async function child(count: number, concurrency: number, rounds: number): Promise<void> {
    const { postThroughProxy, startAppAsWorker } = await import('../test/worker/invoke');
    const httpUri = await startAppAsWorker([...appEntryFiles(projectRoot, buildRoot), join(__dirname, 'minimalApp', 'receive.js')]);
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    const post = async (functionName: string, i: number) => {
        const answer = await postThroughProxy(httpUri, { functionName, body: JSON.stringify(sampleLead(i)), contentType: 'application/json', framing: 'content-length', agent });
        if (answer.status !== 202) throw new Error(`${functionName} answered ${answer.status}: ${answer.body}`);
    };
    const queues = ['worker-intake', 'worker-minimal'].map((name) => new QueueClient(process.env.AzureWebJobsStorage ?? '', name));
    const clear = () => Promise.all(queues.map((queue) => queue.clearMessages().catch(() => undefined)));
    // Warm both paths: the app's modules load on its first request, the minimal queue is made on its first.
    await load(300, concurrency, (i) => post('receiveLead', i));
    await load(300, concurrency, (i) => post('receive', i));
    const results = [];
    for (let r = 0; r < rounds; r++) {
        await clear();
        const app = await load(count, concurrency, (i) => post('receiveLead', r * count + i));
        await clear();
        const minimal = await load(count, concurrency, (i) => post('receive', i));
        results.push({ app: count / app.seconds, minimal: count / minimal.seconds, appP99: quantile(app.latencies, 0.99), minimalP99: quantile(minimal.latencies, 0.99) });
        process.stderr.write(`  worker round ${r + 1}: receiveLead ${round(count / app.seconds)}/s, enqueue-only ${round(count / minimal.seconds)}/s\n`);
    }
    await clear();
    const result: HandlerRatio = {
        handlerPerSec: round(median(results.map((r) => r.app))),
        enqueueOnlyPerSec: round(median(results.map((r) => r.minimal))),
        handlerP99ms: round(median(results.map((r) => r.appP99))),
        enqueueOnlyP99ms: round(median(results.map((r) => r.minimalP99))),
        ratio: round(median(results.map((r) => r.app / r.minimal)), 3),
        concurrency,
        requestsPerRound: count,
        rounds,
    };
    process.stdout.write(`\n${JSON.stringify(result)}\n`);
    // The library's HTTP proxy listens for as long as the worker lives.
    process.exit(0);
}

if (process.argv[2] === '--worker-child') {
    child(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])).catch((error: unknown) => {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exit(1);
    });
}
