import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import type { DestinationName } from '../../src/config/settings';
import { deliveryFunctionName } from '../../src/runtime/deliveryFunctionName';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import type { Azurite } from '../../src/host/azurite';
import { freePort, startApp, tempDir, type RunningApp } from './processes';
import { eventually } from './queues';
import { startStorageCounter, tally, type CountedCall } from './storageCounter';

export interface LeadCostOptions {
    leads: number;
    /** LEAD_DESTINATIONS. */
    destinations: readonly DestinationName[];
    /** More app settings, such as WEBHOOK_URL. */
    env?: Record<string, string>;
}

export interface StageCost {
    /** Requests that did work, by `operation resource`. */
    work: Record<string, number>;
    total: number;
    /** Receives that found an empty queue: the host polling, apart from the leads. */
    idlePolls: number;
    /** Creating queues and tables once per process. */
    setup: number;
}

export interface LeadCost {
    leads: number;
    intake: StageCost;
    delivery: StageCost;
    /** One notification run that mails all the leads. */
    notify: StageCost;
    /** (intake + delivery + notify) work requests ÷ leads. */
    callsPerLead: number;
}

const finished = "State ne 'pending'";

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** A lead of its own for each `i` of each measurement (`run`), so that one measurement's leads are not repeats of another's. */
function postLead(url: string, run: string, i: number): Promise<void> {
    const body = JSON.stringify({
        UserDetails: { FirstName: 'Cost', LastName: `Count${i}`, Email: `cost${i}.${run}@contoso.example`, Company: 'Contoso', Country: 'US' },
        LeadSource: 'AzureMarketplace-INS|contoso.cost',
        ActionCode: 'INS',
        OfferTitle: 'Cost',
    });
    return new Promise((resolve, reject) => {
        const req = request(`${url}/api/leads`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`POST /api/leads answered ${res.statusCode}.`))));
        });
        req.on('error', reject);
        req.end(body);
    });
}

/** The app against the counting front, with its timers parked on a yearly schedule: the admin API runs them when a measurement wants. */
function countedAppSettings(connectionString: string): Record<string, string> {
    return {
        AzureWebJobsStorage: connectionString,
        NOTIFY_TO: 'sales@contoso.example',
        NOTIFY_SCHEDULE: '0 0 0 1 1 *',
        ALERT_SCHEDULE: '0 0 0 1 1 *',
        OUTBOX_DIR: tempDir('cost-outbox'),
        NOTIFY_MAX_LEADS_PER_MAIL: '2000',
    };
}

function settingsFile(): string[] {
    return ['--settings', join(tempDir('cost-settings'), 'local.settings.json')];
}

/** Runs a timer function through the admin API and waits until the host says it finished. */
export async function runTimerNow(app: RunningApp, name: string): Promise<void> {
    const finished = new RegExp(`Executed 'Functions\\.${name}'`, 'g');
    const before = app.output().match(finished)?.length ?? 0;
    const fired = await fetch(`${app.url}/admin/functions/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    if (fired.status !== 202) throw new Error(`The admin API answered ${fired.status} for ${name}.`);
    await eventually(() => ((app.output().match(finished)?.length ?? 0) > before ? true : undefined), 60_000, `the ${name} run`);
}

/** Messages on a queue, visible or not: 0 once every message was deleted, or when nothing ever created it (a destination the fan-out calls itself). */
async function queueLength(connection: string, name: string): Promise<number> {
    try {
        return (await new QueueClient(connection, name).getProperties()).approximateMessagesCount ?? 0;
    } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return 0;
        throw error;
    }
}

/** Rows of a table, those matching `filter` if given; none while the table does not exist. */
async function rowCount(connection: string, table: string, filter?: string): Promise<number> {
    const client = TableClient.fromConnectionString(connection, table, { allowInsecureConnection: true });
    let rows = 0;
    try {
        for await (const page of client.listEntities({ queryOptions: { filter, select: ['RowKey'] } }).byPage()) rows += page.length;
    } catch {
        // not created yet
    }
    return rows;
}

/**
 * What `leads` leads cost in storage requests, end to end, counted by a proxy in front of Azurite:
 * intake with delivery off (so every lead waits on the queue, and the host takes them in full
 * batches), then delivery, then one notification run. Timers are parked on a yearly schedule and
 * the notification run is started through the admin API, so every count is exact.
 */
export async function measureLeadCost(azurite: Azurite, options: LeadCostOptions): Promise<LeadCost> {
    const counter = await startStorageCounter(azurite);
    const env = { ...countedAppSettings(counter.connectionString), LEAD_DESTINATIONS: options.destinations.join(','), ...options.env };
    const settings = settingsFile();
    const stage = (calls: readonly CountedCall[]): StageCost => tally(calls);
    let app: RunningApp | undefined;
    try {
        const { destinations } = options;
        // Counted from what an earlier measurement on the same storage left.
        const rowsBefore = await rowCount(azurite.connectionString, 'MarketplaceLeads');
        const finishedBefore = await rowCount(azurite.connectionString, 'LeadDeliveries', finished);
        app = await startApp({ env: { ...env, 'AzureWebJobs.deliverLead.Disabled': 'true' }, args: settings, port: await freePort() });
        counter.reset();
        const run = randomUUID().slice(0, 8);
        for (let i = 0; i < options.leads; i += 16) {
            const url = app.url;
            await Promise.all(Array.from({ length: Math.min(16, options.leads - i) }, (_, j) => postLead(url, run, i + j)));
        }
        const intake = stage(counter.calls());
        await app.stop();

        // First the fan-out alone, so that each destination's queue holds all its messages before its
        // function starts: the host then takes them in full batches, as it does under load.
        const destinationFunctions = destinations.filter((d) => d !== 'table').map((d) => `AzureWebJobs.${deliveryFunctionName(d)}.Disabled`);
        app = await startApp({ env: { ...env, ...Object.fromEntries(destinationFunctions.map((name) => [name, 'true'])) }, args: settings, port: await freePort() });
        counter.reset();
        const rowsStored = async () => (await rowCount(azurite.connectionString, 'MarketplaceLeads')) >= rowsBefore + options.leads;
        await eventually(async () => ((await rowsStored()) ? true : undefined), 120_000, `${options.leads} new rows in the leads table`);
        await eventually(async () => ((await queueLength(azurite.connectionString, 'leads')) === 0 ? true : undefined), 60_000, 'the leads queue to empty');
        const fanOut = counter.calls().slice();
        await app.stop();

        app = await startApp({ env, args: settings, port: await freePort() });
        counter.reset();
        // Every destination's record has left `pending`: the delivery is over, not only the table's part.
        const deliveriesFinished = async () => (await rowCount(azurite.connectionString, 'LeadDeliveries', finished)) >= finishedBefore + options.leads * destinations.length;
        await eventually(async () => ((await deliveriesFinished()) ? true : undefined), 120_000, 'every delivery to finish');
        for (const destination of destinations.filter((d) => d !== 'table')) {
            await eventually(async () => ((await queueLength(azurite.connectionString, `leads-${destination}`)) === 0 ? true : undefined), 60_000, `the ${destination} queue to empty`);
        }
        const delivery = stage([...fanOut, ...counter.calls()]);

        counter.reset();
        await runTimerNow(app, 'notifyContacts');
        const notify = stage(counter.calls());
        return { leads: options.leads, intake, delivery, notify, callsPerLead: (intake.total + delivery.total + notify.total) / options.leads };
    } finally {
        await app?.stop();
        await counter.stop();
    }
}

export interface IdleCost {
    /** Receives of empty queues an hour, all queues together: the host polling while no lead comes. */
    pollsPerHour: number;
    /** Queues the host polls: one per queue function. */
    queuesPolled: number;
    /** Requests of one notification run that finds no new lead. */
    notifyRunCalls: number;
    /** Requests of one alert run that finds nothing to tell. */
    alertRunCalls: number;
}

/**
 * What the app costs when no lead comes: the host's polls of its queues over `windowMs` (after the
 * polls have backed off to maxPollingInterval), and one run of each timer that finds nothing to do.
 * `env` adds app settings: LEAD_DESTINATIONS decides which destination queues have a trigger.
 */
export async function measureIdleCost(azurite: Azurite, env: Record<string, string> = {}, windowMs = 20_000): Promise<IdleCost> {
    const counter = await startStorageCounter(azurite);
    const app = await startApp({ env: { ...countedAppSettings(counter.connectionString), ...env }, args: settingsFile(), port: await freePort() });
    try {
        // The first polls after start come fast; from the fifth on they are maxPollingInterval apart.
        await new Promise((resolve) => setTimeout(resolve, 8_000));
        counter.reset();
        await new Promise((resolve) => setTimeout(resolve, windowMs));
        const polls = counter.calls().filter((call) => call.empty);
        const queuesPolled = new Set(polls.map((call) => call.resource)).size;
        const pollsPerHour = Math.round((polls.length * 3_600_000) / windowMs);
        const runCalls = async (name: string) => {
            counter.reset();
            await runTimerNow(app, name);
            return tally(counter.calls()).total;
        };
        return { pollsPerHour, queuesPolled, notifyRunCalls: await runCalls('notifyContacts'), alertRunCalls: await runCalls('sendAlerts') };
    } finally {
        await app.stop();
        await counter.stop();
    }
}
