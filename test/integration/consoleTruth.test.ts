import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import type { Health } from '../../src/console/health';
import { json, startTestServer, type TestServer } from '../helpers/httpServer';
import { runTimerNow } from '../helpers/leadCost';
import { freePort, postLead, startApp, tempDir, type RunningApp } from '../helpers/processes';
import { eventually } from '../helpers/queues';

/*
 * What the console says about leads that need a person, on the app run by the local host over a
 * real Azurite: a webhook that answers 503 until it is mended, so deliveries fail, its circuit
 * opens, leads wait behind it and reach the poison queue; then replay and success.
 */
describe('the console tells the truth about failing deliveries and digests', () => {
    let azurite: Azurite;
    let app: RunningApp;
    let webhook: TestServer;

    before(async () => {
        azurite = await startAzurite();
        webhook = await startTestServer((_, res) => json(res, 503, { error: 'down' }));
        app = await startApp({
            env: {
                AzureWebJobsStorage: azurite.connectionString,
                NOTIFY_TO: 'sales@contoso.example',
                OUTBOX_DIR: tempDir('truth-outbox'),
                NOTIFY_SCHEDULE: '0 0 0 1 1 *',
                ALERT_SCHEDULE: '0 0 0 1 1 *',
            },
            port: await freePort(),
        });
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await app?.stop();
        await webhook?.close();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    async function health(): Promise<Health> {
        const response = await fetch(`${app.url}/api/console/health`);
        assert.equal(response.status, 200);
        return (await response.json()) as Health;
    }

    it('shows when the last digest was sent', async () => {
        assert.equal((await health()).lastDigestAt, undefined);
        await postLead(app.url, { UserDetails: { FirstName: 'Ada', LastName: 'Digest', Email: 'ada@digest.example', Company: 'Digest Ltd' }, LeadSource: 'AzureMarketplace-INS|contoso.digest', OfferTitle: 'Digest' });
        const started = new Date().toISOString();
        await eventually(
            async () => {
                await runTimerNow(app, 'notifyContacts');
                return (await health()).lastDigestAt;
            },
            60_000,
            'a digest to be sent',
        );
        const last = (await health()).lastDigestAt ?? '';
        assert.ok(last >= started, `The last digest (${last}) was sent after the lead came (${started}).`);
    });
});
