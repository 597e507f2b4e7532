import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { TableDestination } from '../../src/deliver/destinations/table';
import { importReceiptPrefix, type Lead } from '../../src/lead/lead';
import { normalizeLead } from '../../src/lead/normalize';
import { customerOf, LeadsTable, type LeadEntity } from '../../src/store/leadsTable';
import { json, startTestServer, type TestServer } from '../helpers/httpServer';
import { freePort, postLead, startApp, tempDir, type RunningApp } from '../helpers/processes';
import { eventually } from '../helpers/queues';
import { buildRoot, projectRoot } from '../helpers/samples';
import { analyticsCsv } from '../fixtures/partnerCenterAnalytics';

interface Run {
    code: number;
    stdout: string;
    stderr: string;
}

/** `npm run leads -- <args>` against one app's storage: its exit code and output, whether it succeeded or not. */
function leads(env: Record<string, string>, args: string[]): Promise<Run> {
    const child = spawn(process.execPath, [join(buildRoot, 'src/scripts/leads.js'), ...args, '--settings', '/nonexistent'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const run: Run = { code: -1, stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    return new Promise((resolve) => child.once('close', (code) => resolve({ ...run, code: code ?? -1 })));
}

/** `npm run [--silent] leads -- <args>` as a person types it, from the project folder: what npm itself prints included. */
function npmLeads(env: Record<string, string>, npmOptions: string[], args: string[]): Promise<Run> {
    const child = spawn('npm', ['run', ...npmOptions, 'leads', '--', ...args, '--settings', '/nonexistent'], { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const run: Run = { code: -1, stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    return new Promise((resolve) => child.once('close', (code) => resolve({ ...run, code: code ?? -1 })));
}

const folder = tempDir('import');

function file(name: string, text: string): string {
    const path = join(folder, name);
    writeFileSync(path, text);
    return path;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One app on its own Azurite, with the table and a webhook that counts each lead's deliveries by event. */
interface Instance {
    azurite: Azurite;
    app: RunningApp;
    env: Record<string, string>;
    hooks: Map<string, { created: number; updated: number; last: Lead }>;
}

describe('importing leads from CSV, through the local host and Azurite', () => {
    let webhook: TestServer;
    const instances: Instance[] = [];
    let a: Instance;
    let b: Instance;

    async function instance(name: string): Promise<Instance> {
        const azurite = await startAzurite();
        const env = {
            AzureWebJobsStorage: azurite.connectionString,
            LEAD_DESTINATIONS: 'table, webhook',
            WEBHOOK_URL: `${webhook.url}/${name}`,
            DELIVERY_RETRY_SECONDS: '1',
            'AzureWebJobs.notifyContacts.Disabled': 'true',
        };
        const created: Instance = { azurite, env, hooks: new Map(), app: await startApp({ env, port: await freePort() }) };
        instances.push(created);
        return created;
    }

    before(async () => {
        webhook = await startTestServer((request, res) => {
            const { event, ...lead } = JSON.parse(request.body) as Lead & { event: 'created' | 'updated' };
            const hooks = (request.path === '/a' ? a : b).hooks;
            const seen = hooks.get(lead.id) ?? { created: 0, updated: 0, last: lead };
            hooks.set(lead.id, { ...seen, [event]: seen[event] + 1, last: lead });
            json(res, 200, { ok: true });
        });
        [a, b] = await Promise.all([instance('a'), instance('b')]);
    });

    after(async () => {
        for (const { app, azurite } of instances) {
            await app.stop();
            await azurite.stop();
        }
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning it
        await webhook?.close();
    });

    function leadsTable(target: Instance): TableClient {
        return TableClient.fromConnectionString(target.azurite.connectionString, 'MarketplaceLeads', { allowInsecureConnection: true });
    }

    async function rowOf(target: Instance, id: string): Promise<LeadEntity | undefined> {
        try {
            for await (const row of leadsTable(target).listEntities<LeadEntity>({ queryOptions: { filter: `LeadId eq '${id}'` } })) return row;
        } catch {
            return undefined;
        }
        return undefined;
    }

    async function rowsWhere(target: Instance, test: (row: LeadEntity) => boolean): Promise<LeadEntity[]> {
        const found: LeadEntity[] = [];
        for await (const row of leadsTable(target).listEntities<LeadEntity>()) if (test(row)) found.push(row);
        return found;
    }

    /** Waits until the lead is in the target's table and its webhook got it; resolves with the row. */
    async function delivered(target: Instance, id: string, event: 'created' | 'updated' = 'created'): Promise<LeadEntity> {
        await eventually(() => ((target.hooks.get(id)?.[event] ?? 0) > 0 ? true : undefined), 20_000, `the webhook's ${event} call for ${id}`);
        return eventually(() => rowOf(target, id), 10_000, `the table row of ${id}`);
    }

    const posted = {
        plus: {
            UserDetails: { FirstName: 'Ada', LastName: 'Lovelace', Email: 'ada@contoso.example', Phone: '+1 425 555 0100', Company: 'Contoso', Title: 'CTO', Country: 'UK' },
            LeadSource: 'AzureMarketplace-INS|contoso.analytics',
            OfferTitle: 'Contoso Analytics',
            Description: '=cmd|"/c calc"!A1',
        },
        split: {
            UserDetails: { FirstName: 'Bob', Email: 'bob@fabrikam.example', Company: 'Fabrikam, Inc.' },
            LeadSource: 'AppSource (SPZA)',
            ActionCode: 'PLT',
            OfferTitle: 'Fabrikam CRM',
            Description: 'Call me\nafter 5',
        },
        minus: { UserDetails: { LastName: 'Nomail', Company: '-Dash Corp', Phone: '@555' }, LeadSource: 'AzurePortal-Create|contoso.vm' },
    };
    const ids: Record<keyof typeof posted, string> = { plus: '', split: '', minus: '' };
    let exportA = '';

    it('imports the export of app A into a fresh app B: every lead once to the table and the webhook, with its id and creation time', async () => {
        for (const key of Object.keys(posted) as (keyof typeof posted)[]) ids[key] = await postLead(a.app.url, posted[key]);
        const rowsA = await Promise.all(Object.values(ids).map((id) => delivered(a, id)));
        const exported = await leads(a.env, ['export', '--csv']);
        assert.equal(exported.code, 0, exported.stderr);
        assert.match(exported.stdout, /'\+1 425 555 0100/);
        assert.match(exported.stdout, /'=cmd/);
        exportA = file('export-a.csv', exported.stdout);

        const imported = await leads(b.env, ['import', exportA]);
        assert.equal(imported.code, 0, imported.stdout + imported.stderr);
        assert.match(imported.stdout, /File ".*export-a\.csv":\nImported 3 row\(s\): 3 new, 0 already there, 0 updated, 0 refused\./);
        assert.match(imported.stdout, /Columns not read: "LastSeenAt", "Occurrences", "IsTest", "DoNotContact"\./);
        for (const rowA of rowsA) {
            const rowB = await delivered(b, rowA.LeadId);
            assert.equal(rowB.CreatedTime, rowA.CreatedTime, 'the creation time is kept');
            assert.deepEqual(customerOf(rowB), customerOf(rowA));
            assert.deepEqual(
                [rowB.LeadSource, rowB.Source, rowB.ActionCode, rowB.Offer, rowB.OfferDisplayName, rowB.Description],
                [rowA.LeadSource, rowA.Source, rowA.ActionCode, rowA.Offer, rowA.OfferDisplayName, rowA.Description],
            );
            assert.equal(b.hooks.get(rowA.LeadId)?.last.receivedAt, rowA.CreatedTime);
        }
        assert.equal(customerOf((await rowOf(b, ids.plus)) ?? { CustomerInfo: '' }).Phone, '+1 425 555 0100');
        assert.equal((await rowOf(b, ids.plus))?.Description, '=cmd|"/c calc"!A1');
        await pause(1500);
        for (const id of Object.values(ids)) assert.deepEqual([b.hooks.get(id)?.created, b.hooks.get(id)?.updated], [1, 0], id);
        assert.equal(b.hooks.size, 3);
    });

    it('delivers nothing when the same file is imported again, or the export into the app it came from', async () => {
        const again = await leads(b.env, ['import', exportA]);
        assert.equal(again.code, 0, again.stdout + again.stderr);
        assert.match(again.stdout, /Imported 3 row\(s\): 0 new, 3 already there, 0 updated, 0 refused\./);
        const home = await leads(a.env, ['import', exportA]);
        assert.match(home.stdout, /Imported 3 row\(s\): 0 new, 3 already there, 0 updated, 0 refused\./);
        await pause(2000);
        for (const id of Object.values(ids)) {
            assert.deepEqual([b.hooks.get(id)?.created, b.hooks.get(id)?.updated], [1, 0], id);
            assert.deepEqual([a.hooks.get(id)?.created, a.hooks.get(id)?.updated], [1, 0], id);
            assert.equal((await rowOf(b, id))?.Occurrences, 1, 'the table never counted another POST');
        }
    });

    it('imports a Partner-Center-shaped file (BOM, CRLF, a mapped column): new leads, and a newer version of one as an update', async () => {
        const csv = [
            '\uFEFFFirst name,Email address,Company name,Job title,Offer name,Lead source,Action,Created,Customer region,Marketplace',
            'Carol,carol@northwind.example,Northwind,Buyer,Northwind Suite,AzureMarketplace-INS|northwind.suite,,5/13/2024 10:22:33 AM,Germany,Azure',
            'Dan,dan@tailspin.example,Tailspin,,Tailspin Toys,AppSource (SPZA),PLT,2024-06-01T08:00:00Z,,AppSource',
            // Ada again, a minute on: the same lead (e-mail, offer, action) with a new title.
            `Ada,ada@contoso.example,Contoso,CEO,Contoso Analytics,AzureMarketplace-INS|contoso.analytics,INS,${new Date(Date.now() + 60_000).toISOString()},UK,Azure`,
            '',
        ].join('\r\n');
        const path = file('partner-center.csv', csv);
        const imported = await leads(b.env, ['import', path, '--map', 'Customer region=country']);
        assert.equal(imported.code, 0, imported.stdout + imported.stderr);
        assert.match(imported.stdout, /Imported 3 row\(s\): 2 new, 0 already there, 1 updated, 0 refused\./);
        assert.match(imported.stdout, /Columns not read: "Marketplace"\./);

        const [carol] = await eventually(
            async () => ((await rowsWhere(b, (row) => row.CustomerInfo.includes('carol@'))).length ? rowsWhere(b, (row) => row.CustomerInfo.includes('carol@')) : undefined),
            20_000,
            "Carol's row",
        );
        assert.ok(carol);
        await delivered(b, carol.LeadId);
        assert.equal(carol.CreatedTime, '2024-05-13T10:22:33.000Z');
        assert.deepEqual([carol.Source, carol.ActionCode, carol.Offer, carol.OfferDisplayName], ['AzureMarketplace', 'INS', 'northwind.suite', 'Northwind Suite']);
        assert.equal(customerOf(carol).Country, 'Germany', 'from the mapped column');
        const [dan] = await eventually(async () => ((await rowsWhere(b, (row) => row.CustomerInfo.includes('dan@'))).length ? rowsWhere(b, (row) => row.CustomerInfo.includes('dan@')) : undefined), 20_000, "Dan's row");
        assert.deepEqual([dan?.Source, dan?.ActionCode, dan?.OfferDisplayName], ['AppSource (SPZA)', 'PLT', 'Tailspin Toys']);

        const ada = await delivered(b, ids.plus, 'updated');
        assert.equal(customerOf(ada).Title, 'CEO');
        assert.equal(ada.CreatedTime, (await rowOf(a, ids.plus))?.CreatedTime, 'first seen stays');
        await pause(1000);
        assert.deepEqual([b.hooks.get(ids.plus)?.created, b.hooks.get(ids.plus)?.updated], [1, 1]);

        const again = await leads(b.env, ['import', path, '--map', 'Customer region=country']);
        assert.match(again.stdout, /Imported 3 row\(s\): 0 new, 3 already there, 0 updated, 0 refused\./);
    });

    it('writes nothing but CSV: "npm run --silent leads -- export --csv > FILE" and "--out FILE" both give a file that imports again as repeats', async () => {
        const silent = await npmLeads(a.env, ['--silent'], ['export', '--csv']);
        assert.equal(silent.code, 0, silent.stderr);
        assert.ok(silent.stdout.startsWith('LeadId,CreatedTime,'), 'the first line of standard output is the header');
        const piped = file('piped.csv', silent.stdout);
        const out = join(folder, 'out.csv');
        const written = await npmLeads(a.env, [], ['export', '--csv', '--out', out]);
        assert.equal(written.code, 0, written.stderr);
        assert.doesNotMatch(written.stdout, /LeadId,CreatedTime|\.example/, "standard output holds npm's banner, never the CSV");
        assert.match(written.stderr, /^Wrote \d+ lead\(s\) created in the last 365 day\(s\) to ".*out\.csv"\.$/m);
        assert.equal(readFileSync(out, 'utf8'), silent.stdout);
        const rows = silent.stdout.trimEnd().split('\r\n').length - 1;
        assert.ok(rows >= 3);
        for (const path of [piped, out]) {
            const imported = await leads(a.env, ['import', path]);
            assert.equal(imported.code, 0, imported.stdout + imported.stderr);
            assert.match(imported.stdout, new RegExp(`Imported ${rows} row\\(s\\): 0 new, ${rows} already there, 0 updated, 0 refused\\.`));
        }
        const nowhere = await leads(a.env, ['export', '--csv', '--out', join(folder, 'no-such-folder', 'x.csv')]);
        assert.equal(nowhere.code, 1);
        assert.match(nowhere.stderr, /^The CSV cannot be written to ".*no-such-folder\/x\.csv": ENOENT/);
        assert.equal(nowhere.stdout, '');
    });

    it('refuses unreadable rows with their row numbers and imports none of them; a syntax error stops the import after counting the rows before it', async () => {
        const csv = [
            'Email,Company,Created',
            'erin@good.example,Good One,2024-05-13',
            'secret-a@bad.example,Secret Corp,the day before yesterday',
            ',,2024-05-13',
            'secret-b@bad.example,Secret Corp',
            'frank@good.example,Good Two,',
            '"secret-c@bad.example,Unclosed,2024-05-13',
            'grace@after.example,After,2024-05-13',
            '',
        ].join('\r\n');
        const imported = await leads(b.env, ['import', file('bad.csv', csv)]);
        assert.equal(imported.code, 1);
        assert.match(imported.stdout, /Imported 5 row\(s\): 2 new, 0 already there, 0 updated, 3 refused\./);
        assert.match(imported.stdout, /Row 1 is the first row after the header\. A refused row was not imported, not even in part\./);
        assert.match(imported.stdout, /Row 2 \(line 3\): The creation time in column "Created" is not a date/);
        assert.match(imported.stdout, /Row 3 \(line 4\): The row has no lead fields/);
        assert.match(imported.stdout, /Row 4 \(line 5\): The row has 2 cells where the header has 3\./);
        assert.match(imported.stdout, /Stopped at line 7: The file is not valid CSV at row 6 \(starting on line 7\): a quoted cell is never closed\. The rows before it were read\.\n(.*\n)?Run the import again/);
        assert.doesNotMatch(imported.stdout + imported.stderr, /secret|Secret/, 'no customer value in the report');

        await eventually(async () => ((await rowsWhere(b, (row) => /erin@|frank@/.test(row.CustomerInfo))).length === 2 ? true : undefined), 20_000, 'the two good rows');
        await pause(1000);
        assert.deepEqual(await rowsWhere(b, (row) => /bad\.example|after\.example/.test(row.CustomerInfo)), []);
    });

    it('changes nothing with --dry-run: no queue, no table, only reads', async () => {
        const fresh = { ...b.env, LEADS_QUEUE: 'dry-leads', LEADS_TABLE: 'DryLeads', DELIVERIES_TABLE: 'DryDeliveries' };
        const dry = await leads(fresh, ['import', exportA, '--dry-run']);
        assert.equal(dry.code, 0, dry.stdout + dry.stderr);
        assert.match(dry.stdout, /File ".*export-a\.csv" \(dry run\):\nWould import 3 row\(s\): 3 new, 0 already there, 0 updated, 0 refused\.\nDry run: nothing was changed\./);
        assert.equal(await new QueueClient(b.azurite.connectionString, 'dry-leads').exists(), false);
        const tables: string[] = [];
        for await (const table of TableServiceClient.fromConnectionString(b.azurite.connectionString, { allowInsecureConnection: true }).listTables()) tables.push(table.name ?? '');
        assert.deepEqual(
            tables.filter((name) => name.startsWith('Dry')),
            [],
        );
        const many = file('many.csv', ['Email,Offer,Action', ...Array.from({ length: 2500 }, (_, i) => `lead${i}@many.example,contoso.analytics,INS`), ''].join('\n'));
        const large = await leads(fresh, ['import', many, '--dry-run']);
        assert.match(large.stdout, /Would import 2500 row\(s\): 2500 new/);
        assert.match(large.stderr, /^Read \d+ row\(s\): 1000 would be new, 0 already there, 0 would be updated, 0 refused\.$/m, 'plain progress lines when stderr is not a terminal');
        assert.equal(await new QueueClient(b.azurite.connectionString, 'dry-leads').exists(), false);
        const known = await leads(b.env, ['import', exportA, '--dry-run']);
        assert.match(known.stdout, /Would import 3 row\(s\): 0 new, 3 already there, 0 updated/);
    });

    it('puts imported leads in their place in time: months-old leads never push a live lead off the first page, and list --days 1 leaves them out', async () => {
        const live = await postLead(b.app.url, { UserDetails: { Email: 'today@live.example', Company: 'Live Today' }, LeadSource: 'AzureMarketplace-INS|contoso.analytics' });
        const day = 86_400_000;
        const months = [95, 120, 150].map((daysAgo) => new Date(Date.now() - daysAgo * day));
        const csv = ['Email,Company,Offer,Action,Created', ...months.map((at, i) => `old${i}@months.example,Months Ago ${i},contoso.analytics,INS,${at.toISOString()}`), ''].join('\n');
        const imported = await leads(b.env, ['import', file('months-ago.csv', csv)]);
        assert.match(imported.stdout, /Imported 3 row\(s\): 3 new/);
        await delivered(b, live);
        const old = await eventually(
            async () => {
                const rows = await rowsWhere(b, (row) => row.CustomerInfo.includes('@months.example'));
                return rows.length === 3 ? rows : undefined;
            },
            20_000,
            'the three imported rows',
        );
        for (const row of old) {
            assert.equal(row.partitionKey, row.CreatedTime.slice(0, 10), 'an imported row is stored under the day it was created');
            assert.equal(row.rowKey, `${row.CreatedTime}_${row.LeadId}`);
        }
        const first = (await (await fetch(`${b.app.url}/api/console/leads?limit=1`)).json()) as { items: { id: string }[] };
        assert.deepEqual(
            first.items.map((item) => item.id),
            [live],
            "today's lead is the first of the list, not the leads imported after it",
        );
        const listed = await leads(b.env, ['list', '--days', '1']);
        assert.equal(listed.code, 0, listed.stderr);
        assert.match(listed.stdout, new RegExp(live));
        assert.doesNotMatch(listed.stdout, /Months Ago/);
        const quarter = await leads(b.env, ['list', '--days', '100']);
        assert.match(quarter.stdout, /Months Ago 0 {2}\(imported\)/);
        assert.doesNotMatch(quarter.stdout, /Months Ago [12]/);
    });

    it('finds an imported row created months ago again when its delivery is retried, instead of adding a second one', async () => {
        const table = await LeadsTable.connect(b.azurite.connectionString, 'RetriedLeads');
        const destination = new TableDestination(table);
        const created = new Date(Date.now() - 140 * 86_400_000).toISOString();
        const lead = normalizeLead(
            { format: 'json', fields: { email: 'retry@months.example', leadSource: 'AzureMarketplace-INS|contoso.analytics' }, extra: {} },
            { receivedAt: new Date(created), receiptId: `${importReceiptPrefix}retried` },
        );
        const first = await destination.deliver(lead, { attempt: 1, target: undefined, mode: 'create' });
        assert.equal(first.state, 'delivered');
        const again = await destination.deliver(lead, { attempt: 2, target: undefined, mode: 'create', firstReceivedAt: lead.receivedAt });
        assert.deepEqual(again, first, 'the retry finds the row its first attempt stored');
        const rows: LeadEntity[] = [];
        for await (const row of table.client.listEntities<LeadEntity>()) rows.push(row);
        assert.deepEqual(
            rows.map((row) => [row.partitionKey, row.Occurrences]),
            [[created.slice(0, 10), 1]],
        );
    });

    it("imports Partner Center's analytics download (its 19 documented columns) with each field mapped, and a second import of it repeats nothing", async () => {
        const path = file('analytics.csv', analyticsCsv());
        const imported = await leads(b.env, ['import', path]);
        assert.equal(imported.code, 0, imported.stdout + imported.stderr);
        assert.match(imported.stdout, /Imported 4 row\(s\): 4 new, 0 already there, 0 updated, 0 refused\./);
        assert.doesNotMatch(imported.stdout, /Columns not read/);
        assert.match(
            imported.stdout,
            /Columns kept in each lead's other fields: "Referral ID", "Updated Date", "PartnerID", "Customer City", "Lead Type", "Referral program", "Business profile ID", "Lead currency", "Lead value", "Lead value \(USD\)", "Status", "Status Reason"\./,
        );
        const rows = await eventually(
            async () => {
                const found = await rowsWhere(b, (row) => (row.Extra ?? '').includes('7f3c9a10-'));
                return found.length === 4 ? found.sort((x, y) => (x.CreatedTime < y.CreatedTime ? -1 : 1)) : undefined;
            },
            20_000,
            'the four referrals in the table',
        );
        assert.deepEqual(
            rows.map((row) => [row.partitionKey, row.CreatedTime, customerOf(row).Company, customerOf(row).Country, row.Source, row.ActionCode, row.Offer, row.OfferDisplayName, row.Imported]),
            [
                ['2026-08-14', '2026-08-14T09:05:00.000Z', 'Northwind Traders', 'Germany', 'AppSource', 'PLT', 'northwind-crm', 'Northwind CRM', true],
                ['2026-09-02', '2026-09-02T00:00:00.000Z', 'Northwind Traders', 'Germany', 'AppSource', 'PLT', 'northwind-crm', 'Northwind CRM', true],
                ['2026-10-11', '2026-10-11T14:30:00.000Z', 'Tailspin Toys', 'United States', 'AzureMarketplace', 'INS', 'tailspin-vm', 'Tailspin VM', true],
                ['2026-11-20', '2026-11-20T08:00:00.000Z', 'Fabrikam', 'France', 'AzurePortal', 'StartTestDrive', 'fabrikam-demo', 'Fabrikam Demo', true],
            ],
        );
        assert.deepEqual(
            rows.map((row) => (JSON.parse(row.Extra ?? '{}') as Record<string, string>)['Customer City']),
            ['Berlin', 'Munich', 'Seattle', 'Lyon'],
        );
        for (const row of rows) await delivered(b, row.LeadId);

        const again = await leads(b.env, ['import', path]);
        assert.match(again.stdout, /Imported 4 row\(s\): 0 new, 4 already there, 0 updated, 0 refused\./);
        await pause(1500);
        for (const row of rows) {
            assert.deepEqual([b.hooks.get(row.LeadId)?.created, b.hooks.get(row.LeadId)?.updated], [1, 0], row.LeadId);
            assert.equal((await rowOf(b, row.LeadId))?.Occurrences, 1);
        }
        assert.equal((await rowsWhere(b, (row) => (row.Extra ?? '').includes('7f3c9a10-'))).length, 4, 'no row added');
    });

    it('says which --map is wrong, with exit code 2 and nothing imported', async () => {
        const unknownField = await leads(b.env, ['import', exportA, '--map', 'Email=mail']);
        assert.equal(unknownField.code, 2);
        assert.match(unknownField.stderr, /--map "Email=mail" names the field "mail", which is not one of firstName, lastName/);
        const missing = await leads(b.env, ['import', exportA, '--map', 'Org name=company']);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /names the column "Org name", which the file does not have/);
        const malformed = await leads(b.env, ['import', exportA, '--map', 'company']);
        assert.equal(malformed.code, 2);
        assert.match(malformed.stderr, /--map is "company": give it as "Header=field"/);
    });
});
