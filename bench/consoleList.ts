import { createHash } from 'node:crypto';
import { TableClient, type TableTransaction } from '@azure/data-tables';
import { readSettings } from '../src/config/settings';
import { ConsoleData } from '../src/console/consoleData';
import { parseLeadQuery } from '../src/console/leadQuery';
import { parseLead } from '../src/intake/parseLead';
import { AttentionIndex } from '../src/deliver/attentionIndex';
import { leasedEntity } from '../src/deliver/deliveryLog';
import { formatRowKeys, leadEntity, rowKeysFor, type LeadEntity } from '../src/store/leadsTable';
import { sampleLead } from './sampleLead';
import { load, median, round } from './stats';
import type { Lead } from '../src/lead/lead';

const dayMs = 86_400_000;
/** The leads are spread evenly over this many days, ending now: that many day partitions (one more when the span crosses a midnight). */
const spanDays = 10;
/** One lead in this many has a failing webhook delivery: 200 in 100,000. */
const failureEvery = 500;

export interface ConsoleListResult {
    /** The median time of the console's first page of leads (ConsoleData.page, as GET /api/console/leads computes it). */
    listMs: number;
    /** The median time of one single-partition range read of as many rows as that page shows. */
    rangeReadMs: number;
    listRatio: number;
    /** The median time of the failed-deliveries view's first page (`?state=failed`), with `failed` webhook deliveries failing among the leads. */
    failedMs: number;
    failedRatio: number;
    failed: number;
    leads: number;
    pageSize: number;
    rounds: number;
}

/** A lead id as the app makes them: 32 hexadecimal digits. */
function leadIdOf(i: number): string {
    return createHash('md5').update(`bench-console-${i}`).digest('hex');
}

/** The lead `i` of `count`, oldest first, one every (spanDays / count) ending at `end`. */
export function benchLead(i: number, count: number, end: number): Lead {
    const template = parseLead(JSON.stringify(sampleLead(0)), 'json', { receivedAt: new Date(end), receiptId: 'bench-console' });
    const storedAt = new Date(Math.round(end - (count - 1 - i) * ((spanDays * dayMs) / Math.max(count, 1))));
    return { ...template, id: leadIdOf(i), receiptId: `bench-console-${i}`, receivedAt: storedAt.toISOString(), customer: { ...template.customer, lastName: `One${i}`, email: `someone${i}@contoso.com` } };
}

/** The rows of `count` leads, oldest first, as the table destination writes them (stored when received). */
export function leadRows(count: number, end: number): LeadEntity[] {
    return Array.from({ length: count }, (_, i) => {
        const lead = benchLead(i, count, end);
        return leadEntity(lead, rowKeysFor(lead.id, new Date(lead.receivedAt)));
    });
}

/** The delivery record of a lead stored in the table: 'delivered', its target the row's keys, as DeliveryLog.acquire and complete leave it. */
function deliveredRecord(row: LeadEntity) {
    const request = { leadId: row.LeadId, destination: 'table' as const, version: row.Version ?? '', receivedAt: row.CreatedTime, order: row.CreatedTime, receiptId: row.ReceiptIds, ticket: 1, replay: false };
    const at = new Date(Date.parse(row.CreatedTime) + 50);
    return {
        ...leasedEntity(request, undefined, true, 60_000, at),
        State: 'delivered' as const,
        CompletedAt: at.toISOString(),
        LastError: '',
        FailureKind: '' as const,
        LeaseUntil: '',
        FailingSince: '',
        FailingAlerted: false,
        DeliveredVersion: request.version,
        Target: formatRowKeys({ partitionKey: row.partitionKey, rowKey: row.rowKey }),
    };
}

/** Writes the rows straight to the leads table, a partition's transaction of 100 at a time. */
export async function fillLeads(leadsClient: TableClient, rows: readonly LeadEntity[]): Promise<void> {
    await leadsClient.createTable();
    const batches: LeadEntity[][] = [];
    for (const row of rows) {
        const last = batches[batches.length - 1];
        if (last && last.length < 100 && last[0]?.partitionKey === row.partitionKey) last.push(row);
        else batches.push([row]);
    }
    await load(batches.length, 4, async (b) => {
        const actions: TableTransaction['actions'] = (batches[b] ?? []).map((row) => ['create', { ...row }]);
        await leadsClient.submitTransaction(actions);
    });
}

/** Writes the rows, and one delivery record per lead. */
async function fill(leadsClient: TableClient, deliveriesClient: TableClient, rows: readonly LeadEntity[]): Promise<void> {
    await Promise.all([fillLeads(leadsClient, rows), deliveriesClient.createTable()]);
    // The delivery log is keyed by lead: every record is a partition of its own, so a write each.
    await load(rows.length, 16, async (i) => {
        const row = rows[i];
        if (row) await deliveriesClient.createEntity(deliveredRecord(row));
    });
}

/** The first `count` rows of one partition, in key order: the least a page of that many rows can cost. */
async function rangeRead(client: TableClient, partitionKey: string, count: number): Promise<number> {
    let read = 0;
    const pages = client.listEntities<LeadEntity>({ queryOptions: { filter: `PartitionKey eq '${partitionKey}'` } }).byPage({ maxPageSize: count });
    for await (const page of pages) {
        read += page.length;
        if (read >= count) break;
    }
    return read;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
    const started = performance.now();
    const value = await work();
    return { ms: performance.now() - started, value };
}

let tables = 0;

/**
 * The console's list against a single-partition range read of as many rows: fills a leads table of
 * its own with `leads` rows over ten day partitions (and a 'table' delivery record each), then
 * times the first page as the console computes it, in process, and the range read, one after the
 * other in each of `rounds` rounds after a warm-up.
 */
export async function benchConsoleList(azurite: { connectionString: string }, leads: number, rounds: number): Promise<ConsoleListResult> {
    tables++;
    const suffix = `${process.pid}x${tables}`;
    const env = { AzureWebJobsStorage: azurite.connectionString, LEADS_TABLE: `BenchConsole${suffix}`, DELIVERIES_TABLE: `BenchConsoleDeliveries${suffix}`, NOTIFY_STATE_TABLE: `BenchConsoleNotify${suffix}` };
    const settings = readSettings(env);
    const leadsClient = TableClient.fromConnectionString(azurite.connectionString, settings.LEADS_TABLE, { allowInsecureConnection: true });
    const deliveriesClient = TableClient.fromConnectionString(azurite.connectionString, settings.DELIVERIES_TABLE, { allowInsecureConnection: true });

    // The newest lead a second ago: the console's first page is the leads that arrived just before now.
    const end = Date.now() - 1000;
    const rows = leadRows(leads, end);
    await fill(leadsClient, deliveriesClient, rows);

    const pageSize = parseLeadQuery(new URLSearchParams()).limit;
    // The newest partition with a page's worth of rows (today's has fewer just after midnight UTC).
    const perPartition = new Map<string, number>();
    for (const row of rows) perPartition.set(row.partitionKey, (perPartition.get(row.partitionKey) ?? 0) + 1);
    const partition = [...perPartition].filter(([, n]) => n >= pageSize).sort(([a], [b]) => (a < b ? 1 : -1))[0]?.[0];
    if (partition === undefined) throw new Error(`No partition holds ${pageSize} leads: fill more than ${leads}.`);

    // Every 500th lead's webhook delivery fails and is retried, as the delivery path writes it into the attention index.
    const index = await AttentionIndex.connect(settings.storage, settings.DELIVERIES_TABLE);
    const failing = rows.map((_, i) => i).filter((i) => i % failureEvery === failureEvery - 1);
    await load(failing.length, 16, async (n) => {
        const lead = benchLead(failing[n] ?? 0, leads, end);
        await index.mark(lead, 'webhook', { state: 'retrying', failed: true, reason: 'The webhook answered 503.', nextTryAt: new Date(Date.now() + 60_000) });
    });
    const failedData = await ConsoleData.connect(readSettings({ ...env, LEAD_DESTINATIONS: 'table,webhook', WEBHOOK_URL: 'https://hooks.contoso.example/leads' }));
    const failedQuery = new URLSearchParams({ state: 'failed' });
    const failedPage = () => failedData.page(parseLeadQuery(failedQuery));
    const newestFailed = failing
        .slice(-pageSize)
        .map((i) => leadIdOf(i))
        .reverse();

    const data = await ConsoleData.connect(settings);
    // As GET /api/console/leads computes it: the filters from the (empty) query, then one page.
    const listPage = () => data.page(parseLeadQuery(new URLSearchParams()));
    const newest = rows
        .slice(-pageSize)
        .map((row) => row.rowKey)
        .reverse();

    const check = async () => {
        const page = await listPage();
        const shown = page.items.map((item) => item.position);
        if (shown.join() !== newest.join()) throw new Error(`The console's first page is not the ${pageSize} newest leads (it shows ${shown.length}).`);
        if (!page.items.every((item) => item.destinations.some((d) => d.destination === 'table' && d.state === 'delivered'))) throw new Error('The console did not show the table deliveries.');
        const read = await rangeRead(leadsClient, partition, pageSize);
        if (read !== pageSize) throw new Error(`The range read found ${read} rows, not ${pageSize}.`);
        const failedShown = (await failedPage()).items;
        if (failedShown.map((item) => item.id).join() !== newestFailed.join()) throw new Error(`The failed view's first page is not the ${pageSize} newest failing leads (it shows ${failedShown.length}).`);
        if (!failedShown.every((item) => item.destinations.some((d) => d.destination === 'webhook' && d.state === 'failed' && d.nextTryAt)))
            throw new Error('The failed view did not show the failing webhook deliveries.');
    };
    await check();

    const listTimes: number[] = [];
    const failedTimes: number[] = [];
    const rangeTimes: number[] = [];
    for (let r = 0; r < rounds; r++) {
        listTimes.push((await timed(listPage)).ms);
        failedTimes.push((await timed(failedPage)).ms);
        rangeTimes.push((await timed(() => rangeRead(leadsClient, partition, pageSize))).ms);
    }
    const [listMs, failedMs, rangeReadMs] = [median(listTimes), median(failedTimes), median(rangeTimes)];
    return {
        listMs: round(listMs),
        rangeReadMs: round(rangeReadMs),
        listRatio: round(listMs / rangeReadMs, 3),
        failedMs: round(failedMs),
        failedRatio: round(failedMs / rangeReadMs, 3),
        failed: failing.length,
        leads,
        pageSize,
        rounds,
    };
}
