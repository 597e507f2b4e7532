import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { tempDir } from '../helpers/processes';
import { buildRoot, projectRoot } from '../helpers/samples';

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
        const modules = join(tempDir('functions-core'), 'node_modules');
        mkdirSync(join(modules, '@azure', 'functions-core'), { recursive: true });
        const fake = join(buildRoot, 'test', 'worker', 'fakeFunctionsCore.js');
        writeFileSync(join(modules, '@azure', 'functions-core', 'index.js'), `module.exports = require(${JSON.stringify(fake)});\n`);
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
});
