import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { tempDir } from '../helpers/processes';
import { functionNamesWith } from '../helpers/functions';
import { buildRoot, projectRoot } from '../helpers/samples';
import { fakeCoreNodePath } from '../worker/fakeCoreModules';

const run = promisify(execFile);

/** The `@azure/functions` version the worker and host shapes in test/worker were checked against. */
const checkedLibraryVersion = '4.16.5';

/*
 * The app as Azure runs it: in a child process where `@azure/functions-core` is the fake of the
 * worker's module (test/worker/fakeFunctionsCore.ts), so the library registers and converts for
 * real. The child is a node:test file of its own; this test runs it and reports its result. It
 * is forced to exit at the end: the library's HTTP proxy listens for as long as the worker lives.
 */
describe('the worker contract', () => {
    let azurite: Azurite;

    before(async () => {
        azurite = await startAzurite();
    });

    after(async () => {
        await azurite.stop();
    });

    it('was checked against the @azure/functions version in package.json (re-check test/worker when it changes)', () => {
        const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
        assert.equal(pkg.dependencies['@azure/functions'], checkedLibraryVersion);
    });

    it('holds: registration, HTTP streaming with chunked bodies, queue and timer invocations', async () => {
        const modules = fakeCoreNodePath(buildRoot);
        // Without NODE_TEST_CONTEXT, which would make the child's node:test skip its file as a nested run.
        const { NODE_TEST_CONTEXT: _nested, ...parentEnv } = process.env;
        const env = {
            ...parentEnv,
            NODE_PATH: modules,
            AzureWebJobsStorage: azurite.connectionString,
            LEADS_QUEUE: 'contract',
            LEADS_TABLE: 'ContractLeads',
            LEAD_DESTINATIONS: 'table',
            NOTIFY_TO: 'ops@contoso.example',
            EMAIL_TRANSPORT: 'outbox',
            OUTBOX_DIR: join(tempDir('contract-outbox'), 'outbox'),
        };
        const child = join(buildRoot, 'test', 'worker', 'contract.test.js');
        const result = await run(process.execPath, ['--test', '--test-force-exit', '--test-reporter=tap', child], { env, cwd: projectRoot, maxBuffer: 16 * 1024 * 1024 }).catch((error: unknown) => {
            const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
            return { stdout, stderr, failed: true };
        });
        const output = `${result.stdout}\n${result.stderr}`;
        assert.equal('failed' in result, false, output);
        assert.match(output, /^# pass 7$/m, output);
        assert.match(output, /^# fail 0$/m, output);
    });

    /*
     * A destination's queue trigger is registered only where routing can send it a lead: each queue
     * without a trigger is one the host does not poll while the app is idle. In Azure the worker loads
     * the app with the app settings in process.env (see src/functions/deliverToDestination.ts).
     */
    it('registers the queue triggers of the destinations routing uses, and every one when a routing setting cannot be read', async () => {
        const modules = fakeCoreNodePath(buildRoot);
        /** Each function's queue (`undefined` for HTTP and timers), by name, as the worker registers them or the local host loads them. */
        const functionsOf = async (settings: Record<string, string>, by: 'worker' | 'local host') => {
            const { NODE_TEST_CONTEXT: _nested, NODE_PATH: _path, LEAD_DESTINATIONS: _d, LEAD_ROUTES: _r, DNC_DESTINATIONS: _n, DELIVER_TEST_LEADS: _t, ...parentEnv } = process.env;
            const env = { ...parentEnv, ...(by === 'worker' ? { NODE_PATH: modules } : {}), AzureWebJobsStorage: azurite.connectionString, ...settings };
            const args = [join(buildRoot, 'test', 'worker', 'registrations.js'), ...(by === 'worker' ? [] : ['--local-host'])];
            const { stdout } = await run(process.execPath, args, { env, cwd: projectRoot });
            const functions = JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as { name: string; queueName?: string }[];
            return Object.fromEntries(functions.map((f) => [f.name, f.queueName]));
        };
        /** What the worker registers, after checking that the local host loads the same (`npm start` runs the same definitions). */
        const registered = async (settings: Record<string, string>) => {
            const [worker, local] = await Promise.all([functionsOf(settings, 'worker'), functionsOf(settings, 'local host')]);
            assert.deepEqual(local, worker, `the local host loads what the worker registers, for ${JSON.stringify(settings)}`);
            return worker;
        };
        /** Intake, fan-out, console and timers, whatever the routing, and these destinations' triggers on their queues. */
        const expected = (destinations: Record<string, string>) => {
            const delivery = Object.fromEntries(Object.entries(destinations).map(([destination, name]) => [name, `%LEADS_QUEUE%-${destination}`]));
            const all: Record<string, string | undefined> = { deliverLead: '%LEADS_QUEUE%', ...delivery };
            return Object.fromEntries(functionNamesWith(Object.keys(delivery)).map((name) => [name, all[name]]));
        };
        assert.deepEqual(await registered({}), expected({ table: 'deliverTable' }), 'the default: the table alone');
        assert.deepEqual(await registered({ LEAD_DESTINATIONS: 'table,webhook' }), expected({ table: 'deliverTable', webhook: 'deliverWebhook' }));
        const routed = { LEAD_DESTINATIONS: 'webhook', LEAD_ROUTES: JSON.stringify([{ offer: 'contoso.analytics', destinations: ['hubspot', 'salesforce-api'] }]) };
        // The table stays: DNC_DESTINATIONS is the table by default.
        assert.deepEqual(await registered(routed), expected({ table: 'deliverTable', webhook: 'deliverWebhook', 'salesforce-api': 'deliverSalesforceApi', hubspot: 'deliverHubspot' }));
        const every = expected({
            table: 'deliverTable',
            webhook: 'deliverWebhook',
            dynamics: 'deliverDynamics',
            salesforce: 'deliverSalesforce',
            'salesforce-api': 'deliverSalesforceApi',
            marketo: 'deliverMarketo',
            hubspot: 'deliverHubspot',
            teams: 'deliverTeams',
            slack: 'deliverSlack',
        });
        assert.deepEqual(await registered({ LEAD_ROUTES: '[{"offer": "contoso.analytics", "destinations": ["hubspot"]' }), every, 'LEAD_ROUTES is not JSON');
        assert.deepEqual(await registered({ LEAD_DESTINATIONS: 'table,hubspt' }), every, 'a destination name is misspelt');
    });
});
