import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { azuriteConnectionString, defaultAzuritePorts, isListening } from '../../src/host/azurite';
import type { Lead } from '../../src/lead/lead';
import { freePort, startApp, tempDir, withApp } from '../helpers/processes';
import { drainQueue } from '../helpers/queues';
import { sampleText } from '../helpers/samples';

/*
 * The app as `npm start` runs it: no storage setting, so it starts Azurite on its default ports
 * with data on disk, reads local.settings.json (creating it), and lets the environment win.
 */
describe('npm start (the local runtime)', () => {
    it('starts Azurite, honours LEADS_QUEUE and PORT from the environment, keeps data across restarts, and stops on Ctrl-C', async () => {
        const settingsFile = join(tempDir('settings'), 'local.settings.json');
        const args = ['--settings', settingsFile, '--azurite-location', tempDir('azurite')];
        const options = { env: { LEADS_QUEUE: 'custom-leads', AzureWebJobsStorage: '', 'AzureWebJobs.deliverLead.Disabled': 'true' }, args, port: await freePort() };
        let id = '';

        const exitCode = await withApp(options, async (app) => {
            assert.match(app.output(), /Created .*local\.settings\.json from local\.settings\.sample\.json/);
            assert.match(readFileSync(settingsFile, 'utf8'), /UseDevelopmentStorage=true/);
            assert.match(app.output(), /Storage: Azurite on 127\.0\.0\.1:10000-10002/);
            assert.match(app.output(), new RegExp(`receiveLead: \\[POST\\] ${app.url}/api/leads`));
            const response = await fetch(`${app.url}/api/leads`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: sampleText('https-endpoint-example.json'),
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
            assert.deepEqual(messages.map((m) => (m.value as Lead).id), [id], 'the queued lead survived the restart');
        });
    });

    it('refuses to start with a queue name Azure Storage would refuse, naming the setting', async () => {
        for (const name of ['x', 'Not_A_Queue']) {
            const app = startApp({ env: { LEADS_QUEUE: name }, port: await freePort() });
            await assert.rejects(app, new RegExp(`LEADS_QUEUE is "${name}": a queue name has 3 to 45`));
        }
    });
});
