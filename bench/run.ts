import { execFileSync, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { appendFileSync, createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { InvocationContext } from '@azure/functions';
import { TableClient, type TableTransaction } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { parse } from 'csv-parse';
import { readSettings } from '../src/config/settings';
import { startAzurite, type Azurite } from '../src/host/azurite';
import { appEntryFiles } from '../src/host/loadApp';
import { planColumns, type ColumnPlan } from '../src/import/columns';
import { csvRecords } from '../src/import/csvRecords';
import { leadFromRow } from '../src/import/rowLead';
import { parseLead } from '../src/intake/parseLead';
import type { Lead } from '../src/lead/lead';
import { runNotification } from '../src/notify/notifyContacts';
import { AppLeadsTableSource } from '../src/notify/sources';
import { OutboxTransport } from '../src/notify/transports/outbox';
import { leadCsvHeader, leadCsvLine } from '../src/csv/leadsCsv';
import { encodeQueueMessage } from '../src/queue/message';
import { leadEntity, rowKeysFor } from '../src/store/leadsTable';
import { NotifyProgressStore } from '../src/notify/notifyProgress';
import { freePort, startApp, type RunningApp } from '../test/helpers/processes';
import { benchFirstResponse } from './coldStart';
import { benchParsers } from './parsers';
import { benchConsoleList } from './consoleList';
import { sampleLead } from './sampleLead';
import { load, median, quantile, round } from './stats';
import { benchStorageCost } from './storageCost';
import { benchHandler } from './workerIntake';

const root = resolve(__dirname, '..', '..');
const concurrency = 16;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const intakeCount = Number(process.env.BENCH_INTAKE ?? 2000);
const e2eCount = Number(process.env.BENCH_E2E ?? 1000);
const olderLeads = Number(process.env.BENCH_OLDER ?? 100_000);
const pacedRate = Number(process.env.BENCH_E2E_RATE ?? 50);
const importRows = Number(process.env.BENCH_IMPORT ?? 100_000);
const costLeads = Number(process.env.BENCH_COST ?? 1000);
const coldRuns = Number(process.env.BENCH_COLD ?? 9);

function say(line: string): void {
    process.stdout.write(`${line}\n`);
}

function leadFor(i: number, receivedAt = new Date()): Lead {
    return parseLead(JSON.stringify(sampleLead(i)), 'json', { receivedAt, receiptId: `bench-${i}` });
}

/** A keep-alive HTTP client with little overhead of its own: the load generator shares the machine's two cores. */
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

function post(app: RunningApp, i: number): Promise<void> {
    return postTo(app.url, i);
}

/** Leads the app answered 503 for (storage too slow to answer within intake's deadline), each sent again as a sender would. */
let unavailable = 0;

/**
 * One retry when a kept-alive connection was reset under the request: the load generator's
 * problem, not the app's. A 503 is sent again a second later, as the marketplace would, and counted.
 */
async function postTo(baseUrl: string, i: number): Promise<void> {
    for (;;) {
        let status: number;
        try {
            status = await postOnce(baseUrl, i);
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') throw error;
            status = await postOnce(baseUrl, i);
        }
        if (status === 202) return;
        if (status !== 503) throw new Error(`POST answered ${status}`);
        unavailable++;
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
}

function postOnce(baseUrl: string, i: number): Promise<number> {
    const body = JSON.stringify(sampleLead(i));
    return new Promise((resolve, reject) => {
        const req = request(`${baseUrl}/api/leads`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
    });
}

/** POST /api/leads at concurrency 16 against the same payload enqueued raw with @azure/storage-queue. */
async function benchIntake(azurite: Azurite) {
    const app = await startApp({ env: { AzureWebJobsStorage: azurite.connectionString, 'AzureWebJobs.deliverLead.Disabled': 'true', 'AzureWebJobs.notifyContacts.Disabled': 'true' }, port: await freePort() });
    const raw = new QueueClient(azurite.connectionString, 'raw-intake');
    await raw.createIfNotExists();
    const message = encodeQueueMessage(leadFor(0));
    unavailable = 0;
    try {
        await load(300, concurrency, (i) => post(app, i));
        await load(300, concurrency, () => raw.sendMessage(message, { messageTimeToLive: -1 }));
        const bare = await startBare(azurite);
        await load(300, concurrency, (i) => postTo(bare.url, i));
        const results = [];
        const leads = new QueueClient(azurite.connectionString, 'leads');
        const bareQueue = new QueueClient(azurite.connectionString, 'bare-http');
        for (let r = 0; r < rounds; r++) {
            // Azurite slows down as its queues grow: each run starts from empty queues.
            await Promise.all([raw.clearMessages(), leads.clearMessages()]);
            const rawRun = await load(intakeCount, concurrency, () => raw.sendMessage(message, { messageTimeToLive: -1 }));
            await Promise.all([raw.clearMessages(), leads.clearMessages(), bareQueue.clearMessages()]);
            const appRun = await load(intakeCount, concurrency, (i) => post(app, r * intakeCount + i));
            await Promise.all([raw.clearMessages(), leads.clearMessages(), bareQueue.clearMessages()]);
            const bareRun = await load(intakeCount, concurrency, (i) => postTo(bare.url, i));
            const result = {
                leadsPerSec: intakeCount / appRun.seconds,
                rawPerSec: intakeCount / rawRun.seconds,
                p50ms: quantile(appRun.latencies, 0.5),
                p99ms: quantile(appRun.latencies, 0.99),
                rawP99ms: quantile(rawRun.latencies, 0.99),
                barePerSec: intakeCount / bareRun.seconds,
                bareP99ms: quantile(bareRun.latencies, 0.99),
            };
            say(
                `  intake round ${r + 1}: app ${round(result.leadsPerSec)}/s (p50 ${round(result.p50ms)} ms, p99 ${round(result.p99ms)} ms), raw ${round(result.rawPerSec)}/s (p99 ${round(result.rawP99ms)} ms), bare HTTP→enqueue ${round(result.barePerSec)}/s (p99 ${round(result.bareP99ms)} ms)`,
            );
            results.push(result);
        }
        const leadsPerSec = median(results.map((r) => r.leadsPerSec));
        const rawPerSec = median(results.map((r) => r.rawPerSec));
        return {
            leadsPerSec: round(leadsPerSec),
            p50ms: round(median(results.map((r) => r.p50ms))),
            p99ms: round(median(results.map((r) => r.p99ms))),
            rawPerSec: round(rawPerSec),
            rawP99ms: round(median(results.map((r) => r.rawP99ms))),
            barePerSec: round(median(results.map((r) => r.barePerSec))),
            bareP99ms: round(median(results.map((r) => r.bareP99ms))),
            bareRatio: round(median(results.map((r) => r.barePerSec / r.rawPerSec)), 3),
            appToBareRatio: round(median(results.map((r) => r.leadsPerSec / r.barePerSec)), 3),
            // Each round compares app and raw back to back; the median of those ratios resists one noisy round.
            ratio: round(median(results.map((r) => r.leadsPerSec / r.rawPerSec)), 3),
            concurrency,
            requestsPerRound: intakeCount,
            rounds,
            unavailable,
        };
    } finally {
        await app.stop();
        await stopBare?.();
    }
}

let stopBare: (() => Promise<void>) | undefined;

/** The bare HTTP→enqueue baseline, in its own process like the app. */
async function startBare(azurite: Azurite): Promise<{ url: string }> {
    const port = await freePort();
    const child = spawn(process.execPath, [join(__dirname, 'bareHttpEnqueue.js')], { env: { ...process.env, PORT: String(port), BARE_CONNECTION: azurite.connectionString }, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.resume();
    stopBare = () =>
        new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGINT');
        });
    return { url: `http://localhost:${port}` };
}

/**
 * When each lead's row was stored, once `count` rows are there. While the app works, only the
 * queue's length is polled (one cheap call): listing the whole table every moment would compete
 * with the app for the emulator and slow down what is measured.
 */
async function rowTimes(connection: string, queue: string, table: string, count: number, timeoutMs: number): Promise<Map<string, number>> {
    const client = TableClient.fromConnectionString(connection, table, { allowInsecureConnection: true });
    const waiting = new QueueClient(connection, queue);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const left = await waiting.getProperties().then(
            (properties) => properties.approximateMessagesCount ?? 0,
            () => 0,
        );
        if (left === 0 || Date.now() > deadline) {
            const seen = new Map<string, number>();
            try {
                for await (const row of client.listEntities<{ LeadId: string; timestamp?: string }>({ queryOptions: { select: ['LeadId', 'Timestamp'] } })) {
                    seen.set(row.LeadId, Date.parse(String(row.timestamp)));
                }
            } catch {
                // not there yet
            }
            if (seen.size >= count || Date.now() > deadline) return seen;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
}

/** Posts `count` leads, at concurrency 16 (burst) or open-loop at `perSecond`, and measures each from POST until its row exists. */
async function timeToStored(app: RunningApp, azurite: Azurite, queue: string, table: string, first: number, count: number, perSecond?: number) {
    const posted = new Map<string, number>();
    const postOne = async (i: number) => {
        const lead = leadFor(first + i);
        const t = Date.now();
        await post(app, first + i);
        posted.set(lead.id, t);
    };
    if (perSecond) {
        const start = Date.now();
        await Promise.all(
            Array.from({ length: count }, async (_, i) => {
                await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + (i * 1000) / perSecond - Date.now())));
                await postOne(i);
            }),
        );
    } else {
        await load(count, concurrency, postOne);
    }
    const stored = await rowTimes(azurite.connectionString, queue, table, posted.size, 180_000);
    const latencies = [...posted].flatMap(([id, t]) => (stored.has(id) ? [(stored.get(id) ?? t) - t] : []));
    return { count: latencies.length, p50ms: round(quantile(latencies, 0.5)), p95ms: round(quantile(latencies, 0.95)), maxMs: round(Math.max(...latencies)) };
}

/** POST → row in the table, over e2eCount leads; and the drain rate beside a raw receive-and-delete loop at the same depth. */
async function benchEndToEnd(azurite: Azurite) {
    const env = { AzureWebJobsStorage: azurite.connectionString, LEADS_QUEUE: 'e2e', LEADS_TABLE: 'BenchE2E', DELIVERIES_TABLE: 'BenchE2EDeliveries', 'AzureWebJobs.notifyContacts.Disabled': 'true' };
    let app = await startApp({ env, port: await freePort() });
    try {
        const paced = await timeToStored(app, azurite, 'e2e', 'BenchE2E', 100_000, e2eCount, pacedRate);
        say(`  POST → stored, ${pacedRate} leads/s: p50 ${paced.p50ms} ms, p95 ${paced.p95ms} ms over ${paced.count} leads`);
        await app.stop();
        app = await startApp({ env: { ...env, LEADS_TABLE: 'BenchBurst', LEADS_QUEUE: 'burst' }, port: await freePort() });
        const burst = await timeToStored(app, azurite, 'burst', 'BenchBurst', 300_000, e2eCount);
        say(`  POST → stored, burst at concurrency ${concurrency}: p50 ${burst.p50ms} ms, p95 ${burst.p95ms} ms over ${burst.count} leads`);
        const e2e = { ...paced, postedPerSecond: pacedRate, burst: { ...burst, concurrency } };
        await app.stop();

        // Drain: the same depth of waiting messages, taken by the app (with delivery to the table) and by a raw loop.
        const depth = e2eCount;
        const queue = new QueueClient(azurite.connectionString, 'drain');
        await queue.createIfNotExists();
        const messages = Array.from({ length: depth }, (_, i) => encodeQueueMessage(leadFor(200_000 + i)));
        await load(depth, concurrency, (i) => queue.sendMessage(messages[i] ?? '', { messageTimeToLive: -1 }));
        const rawStarted = performance.now();
        let drained = 0;
        await Promise.all(
            Array.from({ length: 2 }, async () => {
                for (;;) {
                    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 16 });
                    if (receivedMessageItems.length === 0) return;
                    await Promise.all(receivedMessageItems.map((m) => queue.deleteMessage(m.messageId, m.popReceipt)));
                    drained += receivedMessageItems.length;
                }
            }),
        );
        const rawDrainPerSec = drained / ((performance.now() - rawStarted) / 1000);
        await queue.clearMessages();
        await load(depth, concurrency, (i) => queue.sendMessage(messages[i] ?? '', { messageTimeToLive: -1 }));
        const appStarted = Date.now();
        app = await startApp({ env: { ...env, LEADS_QUEUE: 'drain', LEADS_TABLE: 'BenchDrain' }, port: await freePort() });
        const rows = await rowTimes(azurite.connectionString, 'drain', 'BenchDrain', depth, 180_000);
        const times = [...rows.values()];
        const [first, last] = [Math.min(...times), Math.max(...times)];
        // From the first row to the last, as the raw loop is timed from its first receive; the host's start is reported apart.
        const drainPerSec = (rows.size - 1) / ((last - first) / 1000);
        const drainWithStartPerSec = rows.size / ((last - appStarted) / 1000);
        say(`  drain: app ${round(drainPerSec)}/s queue → table (${round(drainWithStartPerSec)}/s counting the host's start), raw receive+delete ${round(rawDrainPerSec)}/s at depth ${depth}`);
        return { ...e2e, drainPerSec: round(drainPerSec), drainWithStartPerSec: round(drainWithStartPerSec), rawDrainPerSec: round(rawDrainPerSec), drainRatio: round(drainPerSec / rawDrainPerSec, 3), depth };
    } finally {
        await app.stop();
    }
}

/** One notification run finding 100 new leads, with no older leads, then with olderLeads older ones. */
async function benchNotify(azurite: Azurite) {
    const outbox = mkdtempSync(join(tmpdir(), 'bench-outbox-'));
    const yesterday = new Date(Date.now() - 86_400_000);
    async function timeRuns(table: string, older: number): Promise<number[]> {
        const settings = readSettings({ AzureWebJobsStorage: azurite.connectionString, LEADS_TABLE: table, NOTIFY_TO: 'ops@contoso.example', NOTIFY_STATE_TABLE: `${table}Progress`, NOTIFY_MAX_LEADS_PER_MAIL: '200' });
        const client = TableClient.fromConnectionString(azurite.connectionString, table, { allowInsecureConnection: true });
        await client.createTable();
        const start = Date.now() - 10 * 86_400_000;
        const batches = Math.ceil(older / 100);
        await load(batches, 4, async (b) => {
            const actions: TableTransaction['actions'] = [];
            const day = new Date(start + Math.floor((b * 100 * 8 * 86_400_000) / Math.max(older, 1)));
            for (let i = 0; i < 100 && b * 100 + i < older; i++) {
                const lead = leadFor(1_000_000 + b * 100 + i, day);
                actions.push(['create', { ...leadEntity(lead, rowKeysFor(lead.id, day)) }]);
            }
            if (actions.length > 0) await client.submitTransaction(actions);
        });
        const source = await AppLeadsTableSource.connect(azurite.connectionString, table);
        const progress = await NotifyProgressStore.connect(azurite.connectionString, settings.NOTIFY_STATE_TABLE, source.name);
        // The older leads were notified long ago: the cursor stands past them.
        const claim = await progress.claim(1000);
        if (!claim) throw new Error('Could not claim notification progress.');
        await progress.save(claim, { cursor: yesterday.toISOString(), recent: [] });
        await progress.release(claim);
        const services = { settings, source, progress, transport: new OutboxTransport(outbox) };
        const times: number[] = [];
        for (let r = 0; r < 5; r++) {
            const fresh = Array.from({ length: 100 }, (_, i) => leadFor(5_000_000 + r * 100 + i));
            await load(fresh.length, 8, async (i) => {
                const lead = fresh[i];
                if (lead) await client.createEntity({ ...leadEntity(lead, rowKeysFor(lead.id, new Date())) });
            });
            const t = performance.now();
            const report = await runNotification(services, new InvocationContext({ logHandler: () => undefined }));
            times.push(performance.now() - t);
            if (report.leads !== 100) throw new Error(`A notification run found ${report.leads} leads, not 100.`);
        }
        return times;
    }
    const empty = await timeRuns('BenchNotifyEmpty', 0);
    say(`  notify with no older leads: ${empty.map((t) => round(t)).join(', ')} ms`);
    const full = await timeRuns('BenchNotifyFull', olderLeads);
    say(`  notify with ${olderLeads} older leads: ${full.map((t) => round(t)).join(', ')} ms`);
    const emptyMs = median(empty);
    const fullMs = median(full);
    return { emptyMs: round(emptyMs), fullMs: round(fullMs), scaleRatio: round(fullMs / emptyMs, 3), newLeads: 100, olderLeads };
}

/** Importing the app's function files in a fresh process, against importing @azure/functions alone. */
function benchColdStart() {
    const files = JSON.stringify(appEntryFiles(root));
    // The time is the last line: the app's function files print a line of their own as they load.
    const time = (code: string) =>
        Number(
            execFileSync(process.execPath, ['-e', `const t=process.hrtime.bigint();${code};process.stdout.write('\\n'+String(Number(process.hrtime.bigint()-t)/1e6))`], {
                cwd: root,
                stdio: ['ignore', 'pipe', 'ignore'],
            })
                .toString()
                .split('\n')
                .pop(),
        );
    const app: number[] = [];
    const base: number[] = [];
    for (let i = 0; i < 15; i++) {
        base.push(time(`require('@azure/functions')`));
        app.push(time(`for (const f of ${files}) require(f)`));
    }
    const appMs = median(app);
    const baseMs = median(base);
    say(`  cold import: app ${round(appMs)} ms, @azure/functions alone ${round(baseMs)} ms`);
    return { appMs: round(appMs), baseMs: round(baseMs), ratio: round(appMs / baseMs, 3), runs: 15 };
}

/**
 * In a child process of its own, so that one pass's garbage does not count against the next: reads
 * the file with a bare csv-parse stream (`raw`) or through the import's reader and row conversion
 * (`import`, no storage), and reports rows/s and the peak RSS above where it started.
 */
async function importChild(mode: string, path: string): Promise<void> {
    const startRss = process.memoryUsage.rss();
    let peak = startRss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
    const started = performance.now();
    let rows = 0;
    if (mode === 'raw') {
        for await (const record of createReadStream(path).pipe(parse({ bom: true, relax_column_count: true })) as AsyncIterable<unknown>) if (record) rows++;
        rows--;
    } else {
        let plan: ColumnPlan | undefined;
        const now = new Date();
        for await (const record of csvRecords(createReadStream(path))) {
            if (!plan) plan = planColumns(record.cells);
            else if (leadFromRow(record.cells, plan, now).ok) rows++;
        }
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    process.stdout.write(`\n${JSON.stringify({ rows, seconds, peakRssMb: (peak - startRss) / 2 ** 20 })}\n`);
}

/** Parse and convert of importRows exported leads through the import's streaming reader, against a raw csv-parse pass over the same file. */
function benchImport() {
    const folder = mkdtempSync(join(tmpdir(), 'bench-import-'));
    const path = join(folder, 'leads.csv');
    writeFileSync(path, leadCsvHeader());
    const storedAt = new Date();
    for (let first = 0; first < importRows; first += 1000) {
        const lines = Array.from({ length: Math.min(1000, importRows - first) }, (_, i) => {
            const lead = leadFor(7_000_000 + first + i, new Date(storedAt.getTime() - (first + i) * 1000));
            return leadCsvLine(leadEntity(lead, rowKeysFor(lead.id, storedAt)));
        });
        appendFileSync(path, lines.join(''));
    }
    // The report is the last line: modules the bench loads may print a line of their own first.
    const pass = (mode: string) => JSON.parse(execFileSync(process.execPath, [__filename, '--import-child', mode, path]).toString().trim().split('\n').pop() ?? '') as { rows: number; seconds: number; peakRssMb: number };
    const results = [];
    try {
        for (let r = 0; r < rounds; r++) {
            const raw = pass('raw');
            const imported = pass('import');
            if (raw.rows !== importRows || imported.rows !== importRows) throw new Error(`The import benchmark read ${imported.rows} rows and the raw pass ${raw.rows}, not ${importRows}.`);
            const result = { rowsPerSec: importRows / imported.seconds, rawRowsPerSec: importRows / raw.seconds, peakRssMb: imported.peakRssMb, rawPeakRssMb: raw.peakRssMb };
            say(`  import round ${r + 1}: ${round(result.rowsPerSec)} rows/s (peak RSS +${round(result.peakRssMb)} MB), raw csv-parse ${round(result.rawRowsPerSec)} rows/s (+${round(result.rawPeakRssMb)} MB)`);
            results.push(result);
        }
    } finally {
        rmSync(folder, { recursive: true, force: true });
    }
    return {
        rowsPerSec: round(median(results.map((r) => r.rowsPerSec))),
        rawRowsPerSec: round(median(results.map((r) => r.rawRowsPerSec))),
        ratio: round(median(results.map((r) => r.rowsPerSec / r.rawRowsPerSec)), 3),
        peakRssMb: round(median(results.map((r) => r.peakRssMb))),
        rawPeakRssMb: round(median(results.map((r) => r.rawPeakRssMb))),
        rows: importRows,
        rounds,
    };
}

async function main(): Promise<void> {
    const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memoryGiB: round(totalmem() / 2 ** 30, 1), platform: process.platform };
    say(`Benchmark on ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}; Azurite in memory on this machine.`);
    const coldImport = benchColdStart();
    // A fresh Azurite for each part, so that one part's leftovers do not slow the next.
    const fresh = async <T>(part: (azurite: Azurite) => Promise<T>): Promise<T> => {
        const azurite = await startAzurite();
        try {
            return await part(azurite);
        } finally {
            await azurite.stop();
        }
    };
    say('First answer:');
    const firstAnswer = await fresh((azurite) => benchFirstResponse(azurite, coldRuns));
    say(`  first 202 after starting the host: app ${firstAnswer.firstResponseMs} ms, minimal enqueue-only app ${firstAnswer.minimalFirstResponseMs} ms`);
    const coldStart = {
        ...coldImport,
        firstResponseMs: firstAnswer.firstResponseMs,
        minimalFirstResponseMs: firstAnswer.minimalFirstResponseMs,
        firstResponseRatio: firstAnswer.firstResponseRatio,
        firstResponseRuns: firstAnswer.runs,
    };
    say('Intake:');
    const hostIntake = await fresh(benchIntake);
    // An Azurite of its own: on the one the part above had used, the emulator stalled for minutes.
    const handler = await fresh((azurite) => benchHandler(azurite, intakeCount, concurrency, rounds));
    say(`  the handler as the worker invokes it: receiveLead ${handler.handlerPerSec}/s (p99 ${handler.handlerP99ms} ms), enqueue-only ${handler.enqueueOnlyPerSec}/s (p99 ${handler.enqueueOnlyP99ms} ms)`);
    const intake = { ...hostIntake, handlerRatio: handler.ratio, handler };
    say('Storage requests per lead:');
    const storage = await fresh((azurite) => benchStorageCost(azurite, costLeads));
    say(`  ${storage.callsPerLead} per lead on the default route, ${storage.callsPerLeadWebhook} with a webhook`);
    say(`  idle: ${storage.idle.pollsPerHour} polls an hour over ${storage.idle.queuesPolled} queues by default, ${storage.idleWebhook.pollsPerHour} over ${storage.idleWebhook.queuesPolled} with table,webhook`);
    say('End to end:');
    const e2e = await fresh(benchEndToEnd);
    say('Notification:');
    const notify = await fresh(benchNotify);
    say('Console:');
    const consoleList = await fresh((azurite) => benchConsoleList(azurite, olderLeads, rounds));
    say(`  first page of ${consoleList.pageSize} leads out of ${consoleList.leads}: ${consoleList.listMs} ms, one-partition range read of as many rows ${consoleList.rangeReadMs} ms`);
    say(`  failed-deliveries view, first page (${consoleList.failed} failing): ${consoleList.failedMs} ms`);
    say('Import:');
    const importing = benchImport();
    say('Parsers, slowest known 64 KiB input / a plain one:');
    const parsers = await benchParsers();
    for (const [name, figure] of Object.entries(parsers)) say(`  ${name}: ${figure.ratio} (${figure.worstMs} ms vs ${figure.plainMs} ms)`);
    const results = { measuredAt: new Date().toISOString(), machine, intake, e2e, notify, coldStart, csvImport: importing, storage, console: consoleList, parsers };
    mkdirSync(join(root, 'bench'), { recursive: true });
    writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    say('');
    say('| measure | value | goal |');
    say('| --- | --- | --- |');
    say(`| intake handler, as the worker invokes it (receiveLead / enqueue-only handler) | ${intake.handlerRatio} (${intake.handler.handlerPerSec}/s vs ${intake.handler.enqueueOnlyPerSec}/s) | ≥ 0.9 |`);
    say(`| intake ratio (app / raw enqueue, concurrency ${concurrency}) | ${intake.ratio} (${intake.leadsPerSec}/s vs ${intake.rawPerSec}/s) | ≥ 0.8 |`);
    say(`| app / bare HTTP→enqueue | ${intake.appToBareRatio} (${intake.barePerSec}/s, p99 ${intake.bareP99ms} ms) | ≥ 0.9 |`);
    say(`| intake p99 / raw p99 | ${round(intake.p99ms / intake.rawP99ms, 3)} (${intake.p99ms} ms vs ${intake.rawP99ms} ms) | ≤ 1.5 |`);
    say(`| bare HTTP→enqueue / raw (the cost of an HTTP hop here) | ${intake.bareRatio} | |`);
    say(`| storage requests per lead, default route (table) | ${storage.callsPerLead} | ≤ 5 |`);
    say(`| storage requests per lead, table + webhook | ${storage.callsPerLeadWebhook} (+${storage.extraPerDestination}) | ≤ 2 more |`);
    say(`| idle polls an hour, default (table) | ${storage.idle.pollsPerHour} over ${storage.idle.queuesPolled} queues | |`);
    say(`| idle polls an hour, table + webhook | ${storage.idleWebhook.pollsPerHour} over ${storage.idleWebhook.queuesPolled} queues | |`);
    say(`| POST → stored p95, ${e2e.postedPerSecond} leads/s | ${e2e.p95ms} ms (p50 ${e2e.p50ms} ms) | ≤ 3000 ms |`);
    say(`| POST → stored p95, burst of ${e2eCount} at concurrency ${concurrency} | ${e2e.burst.p95ms} ms (p50 ${e2e.burst.p50ms} ms) | ≤ 3000 ms |`);
    say(`| drain (app / raw at depth ${e2e.depth}) | ${e2e.drainRatio} (${e2e.drainPerSec}/s vs ${e2e.rawDrainPerSec}/s) | ≥ 0.6 |`);
    say(`| notify scale ratio (${notify.olderLeads} older / none) | ${notify.scaleRatio} (${notify.fullMs} ms vs ${notify.emptyMs} ms) | ≤ 1.5 |`);
    say(`| first answer (app / enqueue-only app, fresh host) | ${coldStart.firstResponseRatio} (${coldStart.firstResponseMs} ms vs ${coldStart.minimalFirstResponseMs} ms) | ≤ 1.5 |`);
    say(`| cold import ratio | ${coldStart.ratio} (${coldStart.appMs} ms vs ${coldStart.baseMs} ms) | ≤ 2.5 |`);
    say(`| console first page, ${consoleList.leads} leads (/ one-partition range read) | ${consoleList.listRatio} (${consoleList.listMs} ms vs ${consoleList.rangeReadMs} ms) | ≤ 2 |`);
    say(
        `| console failed-deliveries view, ${consoleList.failed} failing of ${consoleList.leads} (/ the same range read) | ${consoleList.failedRatio} (${consoleList.failedMs} ms vs ${consoleList.rangeReadMs} ms) | ≤ 2 |`,
    );
    say(`| CSV import ratio (parse + convert / raw csv-parse, ${importing.rows} rows) | ${importing.ratio} (${importing.rowsPerSec} rows/s vs ${importing.rawRowsPerSec} rows/s) | |`);
    say(`| CSV import peak RSS delta | ${importing.peakRssMb} MB (raw csv-parse ${importing.rawPeakRssMb} MB) | |`);
    for (const [name, figure] of Object.entries(parsers)) say(`| ${name} parser, worst / plain 64 KiB | ${figure.ratio} (${figure.worstMs} ms vs ${figure.plainMs} ms) | ≤ 3 |`);
    say('\nWrote bench/results.json.');
}

const [childMode, childArgs] = [process.argv[2], process.argv.slice(3)];
(childMode === '--import-child' ? importChild(childArgs[0] ?? '', childArgs[1] ?? '') : main()).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
});
