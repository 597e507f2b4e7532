import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { azuriteConnectionString, defaultAzuritePorts, isListening, startAzurite } from '../../src/host/azurite';
import type { Lead } from '../../src/lead/lead';
import { NotifyProgressStore } from '../../src/notify/notifyProgress';
import { freePort, startApp, tempDir, withApp } from '../helpers/processes';
import { drainQueue } from '../helpers/queues';
import { buildRoot, projectRoot } from '../helpers/samples';

/*
 * The app as `npm start` runs it: no storage setting, so it starts Azurite on its default ports
 * with data on disk, reads local.settings.json (creating it), and lets the environment win.
 */
describe('npm start (the local runtime)', () => {
    it('starts Azurite, honours LEADS_QUEUE and PORT from the environment, prints a console address that opens, keeps data across restarts, and stops on Ctrl-C', async () => {
        const settingsFile = join(tempDir('settings'), 'local.settings.json');
        const args = ['--settings', settingsFile, '--azurite-location', tempDir('azurite')];
        const options = { env: { LEADS_QUEUE: 'custom-leads', AzureWebJobsStorage: '', 'AzureWebJobs.deliverLead.Disabled': 'true' }, args, port: await freePort() };
        let id = '';

        const exitCode = await withApp(options, async (app) => {
            assert.match(app.output(), /Created .*local\.settings\.json from local\.settings\.sample\.json/);
            assert.match(readFileSync(settingsFile, 'utf8'), /UseDevelopmentStorage=true/);
            assert.match(app.output(), /Storage: Azurite on 127\.0\.0\.1:10000-10002/);
            assert.match(app.output(), new RegExp(`receiveLead: \\[POST\\] ${app.url}/api/leads`));
            // The console's address as printed, followed as a newcomer would: it opens, with no route template in it.
            const printed = /^Console: (\S+)/m.exec(app.output())?.[1] ?? '';
            assert.equal(printed, `${app.url}/api/console`);
            assert.doesNotMatch(app.output(), /\{\*/, 'no catch-all template is printed as an address');
            const consolePage = await fetch(printed);
            assert.equal(consolePage.status, 200);
            assert.match(await consolePage.text(), /<html/i);
            // The README's first lead: its sample file, as its curl command posts it.
            const response = await fetch(`${app.url}/api/leads`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: readFileSync(join(projectRoot, 'samples', 'lead.json'), 'utf8'),
            });
            assert.equal(response.status, 202);
            id = ((await response.json()) as { id: string }).id;
        });
        assert.equal(exitCode, 0);
        assert.equal(await isListening(defaultAzuritePorts.queue), false, 'Ctrl-C stops Azurite too');
        assert.ok(existsSync(settingsFile));

        await withApp(options, async (app) => {
            assert.doesNotMatch(app.output(), /Created/);
            const messages = await drainQueue(azuriteConnectionString(defaultAzuritePorts), 'custom-leads');
            assert.deepEqual(
                messages.map((m) => (m.value as Lead).id),
                [id],
                'the queued lead survived the restart',
            );
        });
    });

    it('refuses to start with a queue name Azure Storage would refuse, naming the setting', async () => {
        for (const name of ['x', 'Not_A_Queue']) {
            const app = startApp({ env: { LEADS_QUEUE: name }, port: await freePort() });
            await assert.rejects(app, new RegExp(`LEADS_QUEUE is "${name}": a queue name has 3 to 41`));
        }
    });
});

/** `npm run leads -- <args>`: its exit code and output, whether it succeeded or not. */
async function leads(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const script = join(buildRoot, 'src/scripts/leads.js');
    return promisify(execFile)(process.execPath, [script, ...args, '--settings', '/nonexistent'], { env: { ...process.env, ...env } }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: unknown) => {
            const failed = error as { code?: number; stdout?: string; stderr?: string };
            return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
        },
    );
}

describe('npm run leads -- list / export --days / set-aside', () => {
    it('refuses a --days that is not a whole number from 1 to 36500 with exit code 2, naming the option and the value', async () => {
        for (const days of ['1e9', '0', '-3', '2.5', 'abc', '36501', '']) {
            for (const command of [['list'], ['export', '--csv']]) {
                const { code, stderr } = await leads([...command, `--days=${days}`]);
                assert.equal(code, 2, `${command.join(' ')} --days=${days}: ${stderr}`);
                assert.equal(stderr, `--days is "${days}": give a whole number of days from 1 to 36500.\n`);
            }
        }
    });

    it('lists and exports the last 36500 days without crashing, and lists what notification set aside', async () => {
        const azurite = await startAzurite();
        try {
            const env = { AzureWebJobsStorage: azurite.connectionString };
            const listed = await leads(['list', '--days', '36500'], env);
            assert.equal(listed.code, 0, listed.stderr);
            assert.match(listed.stdout, /^0 lead\(s\) created in the last 36500 day\(s\)/);
            const exported = await leads(['export', '--csv', '--days', '36500'], env);
            assert.equal(exported.code, 0, exported.stderr);
            assert.match(exported.stdout, /^LeadId,CreatedTime,/);
            const store = await NotifyProgressStore.connect(azurite.connectionString, 'LeadNotifications', 'MarketplaceLeads');
            await store.setAside({ kind: 'recipient', subject: 'sales@contoso.example', reason: 'The mail server refused this recipient (550 5.1.1).' });
            const aside = await leads(['set-aside'], env);
            assert.equal(aside.code, 0, aside.stderr);
            assert.match(aside.stdout, /^1 set aside in LeadNotifications:\n\S+ {2}recipient sales@contoso\.example {2}The mail server refused this recipient \(550 5\.1\.1\)\./);
            // A server's words reach the terminal escaped: no escape sequence, no line of their own.
            await store.setAside({ kind: 'recipient', subject: 'ops@contoso.example', reason: '550 refused\n1 set aside: all clear\u001b[2J\u202e' });
            const escaped = await leads(['set-aside'], env);
            assert.ok(!escaped.stdout.includes('\u001b') && !escaped.stdout.includes('\u202e'), 'no raw escape or bidi character');
            assert.doesNotMatch(escaped.stdout, /\n1 set aside: all clear/);
            assert.match(escaped.stdout, /550 refused\\u\{a\}1 set aside: all clear\\u\{1b\}\[2J\\u\{202e\}/);
        } finally {
            await azurite.stop();
        }
    });
});
