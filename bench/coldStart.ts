import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { QueueClient } from '@azure/storage-queue';
import { freePort } from '../test/helpers/processes';
import { buildRoot } from '../test/helpers/samples';
import { sampleLead } from './sampleLead';
import { median, round } from './stats';

/** The project folder: dist/bench/coldStart.js sits two levels below it. */
const root = resolve(__dirname, '..', '..');

/** Past this a run has failed rather than started slowly. */
const runTimeoutMs = 30_000;
const retryMs = 5;

interface Child {
    /** The output so far, or undefined while the process runs. */
    exitedWith(): string | undefined;
    /** Stops the process (Ctrl-C) and resolves with all it printed. */
    stop(): Promise<string>;
}

function spawnChild(args: string[], env: Record<string, string>): Child {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let exited = false;
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const closed = new Promise<void>((resolve) =>
        child.once('close', () => {
            exited = true;
            resolve();
        }),
    );
    return {
        exitedWith: () => (exited ? output : undefined),
        async stop() {
            if (!exited) {
                const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
                child.kill('SIGINT');
                await closed;
                clearTimeout(kill);
            }
            return output;
        },
    };
}

/** One POST on a fresh connection: its status, or the connection error's code (ECONNREFUSED while nothing listens yet). */
function postOnce(port: number, body: string): Promise<number | string> {
    return new Promise((resolve) => {
        const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
        const req = request({ host: '127.0.0.1', port, path: '/api/leads', method: 'POST', agent: false, headers }, (res) => {
            resolve(res.statusCode ?? 0);
            res.resume();
        });
        req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        req.end(body);
    });
}

/** Retries the POST every few ms while the port refuses connections; resolves with the ms since `started` at the first 202. */
async function firstAccepted(port: number, body: string, started: number, child: Child): Promise<number> {
    for (;;) {
        const answer = await postOnce(port, body);
        const elapsed = performance.now() - started;
        if (answer === 202) return elapsed;
        if (child.exitedWith() !== undefined) throw new Error('The process exited before it answered.');
        if (typeof answer === 'number') throw new Error(`POST /api/leads answered ${answer}, not 202.`);
        if (answer !== 'ECONNREFUSED' && answer !== 'ECONNRESET') throw new Error(`POST /api/leads failed: ${answer}.`);
        if (elapsed > runTimeoutMs) throw new Error(`No 202 within ${runTimeoutMs} ms.`);
        await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
}

/**
 * Spawns a fresh process on a free port and times it from the spawn to the first 202 of
 * POST /api/leads; resolves with that and what the process printed until it was stopped.
 */
async function timeFirstResponse(args: string[], env: Record<string, string>, body: string): Promise<{ ms: number; output: string }> {
    const port = await freePort();
    const started = performance.now();
    const child = spawnChild(args, { ...env, PORT: String(port) });
    let ms: number;
    try {
        ms = await firstAccepted(port, body, started, child);
    } catch (error) {
        const output = await child.stop();
        throw new Error(`${error instanceof Error ? error.message : String(error)} ${args.join(' ')} printed:\n${output}`, { cause: error });
    }
    return { ms, output: await child.stop() };
}

/** The queue a run posted to holds exactly its one message; the queue is then dropped, so the next run starts from an empty one. */
async function checkAndDrop(connectionString: string, queueName: string, expected: string): Promise<void> {
    const queue = new QueueClient(connectionString, queueName);
    const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 32 });
    await queue.delete();
    if (peekedMessageItems.length !== 1) throw new Error(`Queue ${queueName} holds ${peekedMessageItems.length} messages, not 1.`);
    const text = Buffer.from(peekedMessageItems[0]?.messageText ?? '', 'base64').toString('utf8');
    if (!text.includes(expected)) throw new Error(`Queue ${queueName} does not hold the posted lead.`);
}

/**
 * Time to first response: from spawning a fresh host process to the first 202 of POST /api/leads
 * (the lead on its queue), for this app (`src/host/cli.js`) and for a minimal function app that only
 * enqueues the body, served by the same local host (bench/minimalApp). Runs alternate app and
 * minimal, after one untimed warm-up of each; each run posts to a queue of its own.
 */
export async function benchFirstResponse(azurite: { connectionString: string }, runs: number): Promise<{ firstResponseMs: number; minimalFirstResponseMs: number; firstResponseRatio: number; runs: number }> {
    if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs is ${runs}: a whole number of at least 1`);
    const work = mkdtempSync(join(tmpdir(), 'bench-cold-'));
    try {
        // The app reads an existing local.settings.json, as on every start after the first; real environment variables win over it.
        const settings = join(work, 'local.settings.json');
        copyFileSync(join(root, 'local.settings.sample.json'), settings);
        // The minimal app's folder: the app's own host.json (routePrefix api), nothing else.
        const minimalRoot = join(work, 'minimal');
        mkdirSync(minimalRoot);
        copyFileSync(join(root, 'host.json'), join(minimalRoot, 'host.json'));
        // The app starts as in Azure, every listener and timer included, but deliverLead: the lead must stay on the queue to be checked.
        const disabled = { 'AzureWebJobs.deliverLead.Disabled': 'true' };
        const storage = { AzureWebJobsStorage: azurite.connectionString };

        const app: number[] = [];
        const minimal: number[] = [];
        const tag = `${process.pid.toString(36)}-${Date.now().toString(36)}`;
        for (let r = -1; r < runs; r++) {
            const run = r < 0 ? 'warm' : String(r);
            const lead = JSON.stringify(sampleLead(r + 1));
            const appQueue = `cold-app-${tag}-${run}`;
            const appRun = await timeFirstResponse([join(buildRoot, 'src', 'host', 'cli.js'), '--settings', settings], { ...storage, ...disabled, LEADS_QUEUE: appQueue }, lead);
            await checkAndDrop(azurite.connectionString, appQueue, `someone${r + 1}@contoso.com`);
            const minimalQueue = `cold-min-${tag}-${run}`;
            const minimalRun = await timeFirstResponse([join(__dirname, 'minimalApp', 'start.js'), minimalRoot], { ...storage, MINIMAL_QUEUE: minimalQueue }, lead);
            await checkAndDrop(azurite.connectionString, minimalQueue, `someone${r + 1}@contoso.com`);
            if (r >= 0) {
                app.push(appRun.ms);
                minimal.push(minimalRun.ms);
            }
        }
        const firstResponseMs = median(app);
        const minimalFirstResponseMs = median(minimal);
        return { firstResponseMs: round(firstResponseMs), minimalFirstResponseMs: round(minimalFirstResponseMs), firstResponseRatio: round(firstResponseMs / minimalFirstResponseMs, 3), runs };
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
}
