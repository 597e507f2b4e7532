import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TransactionAction } from '@azure/data-tables';
import { readSettings } from '../../src/config/settings';
import { ConsoleData } from '../../src/console/consoleData';
import { actionGroup, sourceGroup, total } from '../../src/console/figures';
import { parseLeadQuery } from '../../src/console/leadQuery';
import { parseOverviewQuery, renderOverviewPage } from '../../src/console/overview';
import { azuriteConnectionString, startAzurite, type Azurite } from '../../src/host/azurite';
import { parseLead } from '../../src/intake/parseLead';
import { leadEntity, LeadsTable, rowKeysFor, type LeadEntity } from '../../src/store/leadsTable';
import { addDays, dayOf, lastDayOfMonth, monthOf } from '../../src/store/utcDays';
import { documentedSample } from '../helpers/samples';
import { startStorageCounter, tally, type StorageCounter } from '../helpers/storageCounter';

const dayMs = 86_400_000;
const leads = 100_000;
const spanDays = 90;
const sources = ['AzureMarketplace', 'AppSource', 'AzurePortal', 'AppSource (SPZA)', 'TestDrive'];
const actions = ['INS', 'PLT', 'StartTestDrive', 'Create', 'DNC', 'Other'];

/** The i-th lead of the table: its time (evenly over 90 days ending now), source, action, offer, test and import flags. */
function shapeOf(i: number, now: number) {
    return {
        at: now - Math.floor(((i + 0.5) * spanDays * dayMs) / leads),
        source: sources[i % sources.length] ?? '',
        action: actions[i % actions.length] ?? '',
        offer: `Offer ${String(i % 37).padStart(2, '0')}`,
        test: i % 50 === 0,
        imported: i % 40 === 0,
    };
}

/** Counts of the test's own making, to hold the app's against. */
function expected(now: number, fromDay: string, toDay: string, keep: (shape: ReturnType<typeof shapeOf>) => boolean = () => true) {
    const byDay = new Map<string, { all: number; bySource: Map<string, number>; byAction: Map<string, number> }>();
    const byOffer = new Map<string, number>();
    let all = 0;
    for (let i = 0; i < leads; i++) {
        const shape = shapeOf(i, now);
        const day = dayOf(shape.at);
        if (day < fromDay || day > toDay || !keep(shape)) continue;
        all++;
        const entry = byDay.get(day) ?? { all: 0, bySource: new Map<string, number>(), byAction: new Map<string, number>() };
        entry.all++;
        entry.bySource.set(sourceGroup(shape.source), (entry.bySource.get(sourceGroup(shape.source)) ?? 0) + 1);
        entry.byAction.set(actionGroup(shape.action), (entry.byAction.get(actionGroup(shape.action)) ?? 0) + 1);
        byDay.set(day, entry);
        byOffer.set(shape.offer, (byOffer.get(shape.offer) ?? 0) + 1);
    }
    return { all, byDay, byOffer };
}

/** The queries and reads of the leads and stats tables among the calls. */
function reads(counter: StorageCounter): Record<string, number> {
    return Object.fromEntries(Object.entries(tally(counter.calls()).work).filter(([operation]) => /^table\.(query|read|insert|replace|upsertReplace) /.test(operation)));
}

/*
 * 100,000 leads over 90 days, written straight to the leads table, read through a proxy that
 * counts storage requests: the figures are exact, a past month is counted once and then read from
 * the stats table, and a lead stored in an old day (an import) has its month counted again.
 */
describe('lead statistics over 100,000 leads', () => {
    let azurite: Azurite;
    let counter: StorageCounter;
    let table: LeadsTable;
    let data: ConsoleData;
    const now = Date.now();
    const name = 'ScaleLeads';

    before(async () => {
        azurite = await startAzurite();
        counter = await startStorageCounter(azurite);
        const direct = await LeadsTable.connect(azurite.connectionString, name);
        await direct.ensureTable();
        const template = parseLead(JSON.stringify(documentedSample()), 'json', { receivedAt: new Date(now), receiptId: 'r' });
        const started = performance.now();
        const byPartition = new Map<string, LeadEntity[]>();
        for (let i = 0; i < leads; i++) {
            const shape = shapeOf(i, now);
            const id = i.toString(16).padStart(32, '0');
            const keys = rowKeysFor(id, new Date(shape.at));
            const lead = { ...template, id, source: shape.source, action: shape.action, offerTitle: shape.offer, isTest: shape.test, receiptId: shape.imported ? `import-${i}` : `r${i}` };
            const rows = byPartition.get(keys.partitionKey) ?? [];
            rows.push({ ...leadEntity(lead, keys), CreatedTime: new Date(shape.at).toISOString() });
            byPartition.set(keys.partitionKey, rows);
        }
        const batches = [...byPartition.values()].flatMap((rows) => Array.from({ length: Math.ceil(rows.length / 100) }, (_, b) => rows.slice(b * 100, b * 100 + 100)));
        let next = 0;
        const worker = async () => {
            for (let b = next++; b < batches.length; b = next++) await direct.client.submitTransaction((batches[b] ?? []).map((row): TransactionAction => ['create', { ...row }]));
        };
        await Promise.all(Array.from({ length: 4 }, worker));
        console.log(`# wrote ${leads} lead rows in ${batches.length} batch transactions in ${Math.round(performance.now() - started)} ms`);
        const s = readSettings({ AzureWebJobsStorage: counter.connectionString, LEADS_TABLE: name });
        table = await LeadsTable.connect(counter.connectionString, name);
        data = await ConsoleData.connect(s);
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await counter?.stop();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    it("counts every lead of the list's range, with test leads or without", async () => {
        const query = parseLeadQuery(new URLSearchParams(), new Date(now));
        const started = performance.now();
        assert.equal(await data.count(query), leads);
        const first = performance.now();
        assert.equal(await data.count(query), leads);
        console.log(`# counted ${leads} leads in ${Math.round(first - started)} ms the first time, ${Math.round(performance.now() - first)} ms the second`);
        const hidden = parseLeadQuery(new URLSearchParams({ hideTest: 'true' }), new Date(now));
        assert.equal(await data.count(hidden), expected(now, hidden.fromDay, hidden.toDay, (shape) => !shape.test).all);
        const week = parseLeadQuery(new URLSearchParams({ from: dayOf(now - 6 * dayMs) }), new Date(now));
        assert.equal(await data.count(week), expected(now, week.fromDay, week.toDay).all);
    });

    it("draws the overview's charts and offers from exact figures, over 30 and 90 days", async () => {
        for (const days of ['30', '90']) {
            const query = parseOverviewQuery(new URLSearchParams({ days }), new Date(now));
            const html = renderOverviewPage(query, await data.figures(query.fromDay, query.toDay));
            const want = expected(now, query.fromDay, query.toDay);
            assert.match(html, new RegExp(`data-total="${want.all}"`));
            for (const [day, figures] of want.byDay) {
                const bySource = ['AppSource', 'Azure Marketplace', 'Azure portal', 'Other'].map((group) => figures.bySource.get(group) ?? 0);
                const byAction = ['Contact me', 'Get it now', 'Test drive', 'Purchased', 'Do not contact', 'Other'].map((group) => figures.byAction.get(group) ?? 0);
                assert.ok(html.includes(`<tr><th scope="row">${day}</th>${bySource.map((n) => `<td>${n}</td>`).join('')}<td>${figures.all}</td></tr>`), `the figures by source of ${day}`);
                assert.ok(html.includes(`<tr><th scope="row">${day}</th>${byAction.map((n) => `<td>${n}</td>`).join('')}<td>${figures.all}</td></tr>`), `the figures by action of ${day}`);
            }
            const offers = [...want.byOffer].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 20);
            for (const [offer, count] of offers) assert.match(html, new RegExp(`<tr><th scope="row">${offer}</th><td>${count}</td>`));
            assert.equal((html.match(/<table class="offers">[^]*?<\/table>/)?.[0].match(/<tr><th scope="row">/g) ?? []).length, 20);
        }
    });

    it('reads a past month from the stats table once it is counted, and counts it again after a lead is stored in one of its days', async () => {
        const now2 = new Date(now);
        const lastKept = addDays(dayOf(now), -2);
        const from = addDays(lastKept, -59);
        await table.stats.figures(from, lastKept, now2);
        counter.reset();
        const again = await table.stats.figures(from, lastKept, now2);
        assert.deepEqual(reads(counter), { [`table.query ${name}Stats`]: 1 }, 'no lead row read again');
        const before = total(again);
        assert.equal(before, expected(now, from, lastKept).all);

        // An import stores a lead in a day a month back: that month is counted again, the others are not.
        const old = addDays(lastKept, -30);
        const template = parseLead(JSON.stringify(documentedSample()), 'json', { receivedAt: new Date(now), receiptId: 'import-late' });
        counter.reset();
        assert.equal(await table.insert({ ...template, id: 'f'.repeat(32), offerTitle: 'Late import' }, rowKeysFor('f'.repeat(32), new Date(`${old}T12:00:00.000Z`))), 'inserted');
        assert.deepEqual(reads(counter), { [`table.insert ${name}`]: 1, [`table.insert ${name}Emails`]: 1, [`table.upsertReplace ${name}Stats`]: 1 }, 'the insert marks its month (and indexes its address)');
        counter.reset();
        const after = await table.stats.figures(from, lastKept, now2);
        assert.equal(total(after), before + 1);
        assert.deepEqual(after.find((day) => day.day === old)?.by.offer.get('Late import'), [1, 0, 1, 0]);
        // The month's rows come a page of at most 1,000 at a time: the pages of that month only, not of the 60 days.
        const monthRows = expected(now, `${monthOf(old)}-01`, [lastDayOfMonth(monthOf(old)), lastKept].sort()[0] ?? '').all + 1;
        assert.deepEqual(reads(counter), { [`table.query ${name}Stats`]: 1, [`table.query ${name}`]: Math.ceil(monthRows / 1000), [`table.replace ${name}Stats`]: 1 }, 'one month counted again and kept');

        // The marketplace posts the imported lead again with another offer title: its month is counted again, the lead no longer imported.
        const keys = rowKeysFor('f'.repeat(32), new Date(`${old}T12:00:00.000Z`));
        const later = new Date(now + 1000).toISOString();
        const reposted = { ...template, id: 'f'.repeat(32), offerTitle: 'Renamed offer', version: '0123456789abcdef', receiptId: 'r-again', receivedAt: later, queuedAt: later };
        assert.equal(await table.record(reposted, keys, new Date(now)), 'updated');
        const renamed = (await table.stats.figures(old, old, now2))[0];
        assert.equal(renamed?.by.offer.get('Late import'), undefined);
        assert.deepEqual(renamed?.by.offer.get('Renamed offer'), [1, 0, 0, 0]);

        // A new lead today, of an address not seen before, costs the table nothing more than its row and its address's index entry.
        counter.reset();
        assert.equal(
            await table.insert({ ...template, id: 'e'.repeat(32), receiptId: 'r-today', customer: { ...template.customer, email: 'first.time@today.example' } }, rowKeysFor('e'.repeat(32), new Date(now))),
            'inserted',
        );
        assert.deepEqual(reads(counter), { [`table.insert ${name}`]: 1, [`table.insert ${name}Emails`]: 1 });
    });
});

/** A front for Azurite's table service that holds the answers to the leads table's queries while `held` is set, until it is released. */
async function holdingFront(azurite: Azurite, table: string) {
    let release: (() => void) | undefined;
    let held: Promise<void> | undefined;
    let arrived: (() => void) | undefined;
    const server = createServer((req, res) => {
        const gate = req.method === 'GET' && decodeURIComponent(req.url ?? '').includes(`/${table}()`) ? held : undefined;
        const upstream = request({ host: '127.0.0.1', port: azurite.ports.table, method: req.method, path: req.url, headers: req.headers }, (answer) => {
            const chunks: Buffer[] = [];
            answer.on('data', (chunk: Buffer) => chunks.push(chunk));
            answer.on('end', () => {
                const send = () => res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(chunks));
                if (gate) {
                    arrived?.();
                    void gate.then(send);
                } else send();
            });
        });
        req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        connectionString: azuriteConnectionString({ ...azurite.ports, table: (server.address() as AddressInfo).port }),
        /** Holds the answers to the next queries; resolves once one was read and is held. */
        hold: () =>
            new Promise<void>((resolve) => {
                arrived = resolve;
                held = new Promise<void>((r) => (release = r));
            }),
        release: () => {
            held = undefined;
            release?.();
        },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

/* A count that read a month before a late insert into it must not be kept: the next read counts the insert. */
describe('lead statistics racing an insert into an old day', () => {
    let azurite: Azurite;

    before(async () => {
        azurite = await startAzurite();
    });

    after(async () => {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning it
        await azurite?.stop();
    });

    it('drops the count it was making and counts the month again at the next read', async () => {
        const now = new Date();
        const old = addDays(dayOf(now.getTime()), -40);
        const direct = await LeadsTable.connect(azurite.connectionString, 'RaceLeads');
        const template = parseLead(JSON.stringify(documentedSample()), 'json', { receivedAt: now, receiptId: 'import-race' });
        const at = new Date(`${old}T08:00:00.000Z`);
        for (const id of ['1', '2']) await direct.insert({ ...template, id: id.repeat(32) }, rowKeysFor(id.repeat(32), at));
        const front = await holdingFront(azurite, 'RaceLeads');
        try {
            const proxied = await LeadsTable.connect(front.connectionString, 'RaceLeads');
            const held = front.hold();
            const counting = proxied.stats.figures(old, old, now);
            await held;
            // The count has read the stats table and the leads, and waits for their answer: an import stores a third lead in that day meanwhile.
            assert.equal(await direct.insert({ ...template, id: '3'.repeat(32) }, rowKeysFor('3'.repeat(32), at)), 'inserted');
            front.release();
            assert.equal(total(await counting), 2, 'the count that started before the insert');
            assert.equal(total(await proxied.stats.figures(old, old, now)), 3, 'the next read is not the stale count');
            assert.equal(total(await direct.stats.figures(old, old, now)), 3);
        } finally {
            front.release();
            await front.close();
        }
    });
});
