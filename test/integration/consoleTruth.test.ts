import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import type { Attention } from '../../src/console/attention';
import type { LeadPage } from '../../src/console/consoleData';
import type { Health } from '../../src/console/health';
import type { Lead } from '../../src/lead/lead';
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
    let mended = false;

    before(async () => {
        azurite = await startAzurite();
        webhook = await startTestServer((request, res) => {
            const { company } = (JSON.parse(request.body) as Lead).customer;
            // Refused for good until mended: the lead goes to the poison queue at once.
            if (company === 'Refused Ltd' && !mended) return json(res, 400, { error: 'unknown field' });
            if (company.startsWith('Down') && !mended) return json(res, 503, { error: 'down' });
            json(res, 200, { ok: true });
        });
        app = await startApp({
            env: {
                AzureWebJobsStorage: azurite.connectionString,
                LEAD_DESTINATIONS: 'table,webhook',
                WEBHOOK_URL: `${webhook.url}/hook`,
                DELIVERY_RETRY_SECONDS: '1',
                DELIVERY_TIMEOUT_SECONDS: '2',
                // A shorter first pause than the default 30 s: the mended webhook is reached sooner.
                DELIVERY_CIRCUIT_PAUSE_SECONDS: '8',
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

    async function read<T>(path: string): Promise<T> {
        const response = await fetch(`${app.url}/api/console/${path}`);
        assert.equal(response.status, 200, `GET /api/console/${path}`);
        return (await response.json()) as T;
    }
    const health = () => read<Health>('health');
    const attention = () => read<Attention>('attention');
    const listed = async (query: string) => (await read<LeadPage>(`leads?${query}`)).items.map((item) => item.id);

    const lead = (company: string) => ({
        UserDetails: { FirstName: 'Ada', LastName: 'Truth', Email: `ada@${company.toLowerCase().replace(/\W+/g, '')}.example`, Company: company },
        LeadSource: 'AzureMarketplace-INS|contoso.truth',
        OfferTitle: 'Contoso Truth',
    });
    const ids: Record<string, string> = {};
    const down = ['Down One', 'Down Two', 'Down Three', 'Down Four', 'Down Five'];

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

    it('lists a lead that gave up with its company, offer and when, in the tile and the poisoned view alike', async () => {
        ids.refused = await postLead(app.url, lead('Refused Ltd'));
        const poisoned = await eventually(async () => (await attention()).poisoned.find((p) => p.leadId === ids.refused), 20_000, 'the refused lead in the poison queue');
        assert.equal(poisoned.company, 'Refused Ltd');
        assert.equal(poisoned.offer, 'Contoso Truth');
        assert.equal(poisoned.destination, 'webhook');
        assert.ok(poisoned.receivedAt && poisoned.at, 'when the lead came and when it gave up');
        assert.match(poisoned.reason, /400/);
        assert.equal((await health()).poisonCount, 1);
        assert.deepEqual(await listed('state=poisoned'), [ids.refused]);
        assert.deepEqual(await listed('state=failed'), [ids.refused]);
    });

    it('lists deliveries failing now and leads waiting behind the open circuit, with when each is tried next', async () => {
        for (const company of down) ids[company] = await postLead(app.url, lead(company));
        // Five failures in a row open the circuit: the retries wait behind it, spending no attempt.
        const waiting = await eventually(async () => (await attention()).failing.find((entry) => entry.state === 'waiting'), 30_000, 'a lead waiting behind the open circuit');
        assert.ok(waiting.nextTryAt && waiting.nextTryAt > new Date().toISOString(), 'it says when it is tried next');
        assert.match(waiting.reason, /circuit is open/);
        assert.ok(waiting.company.startsWith('Down'));
        const now = await attention();
        const downIds = down.map((company) => ids[company]).sort();
        assert.deepEqual(now.failing.map((entry) => entry.leadId).sort(), downIds, 'every failing lead is listed');
        assert.ok(
            now.failing.every((entry) => entry.nextTryAt),
            'each with its next try',
        );
        // The tile counts what Needs attention lists.
        assert.deepEqual((await health()).failing, { webhook: 5 });
        assert.deepEqual((await listed('state=failed')).sort(), [...downIds, ids.refused].sort());
        assert.ok((await listed('state=waiting')).includes(waiting.leadId));
        const page = await (await fetch(`${app.url}/api/console`)).text();
        assert.match(page, new RegExp(`data-lead="${waiting.leadId}" data-attention="waiting"`));
    });

    it('clears a delivery when it succeeds after failing, and a replayed lead once it is delivered', async () => {
        mended = true;
        // After the circuit's pause (8 s here, doubling while probes fail) a probe goes, succeeds, and the waiting leads follow.
        await eventually(async () => ((await attention()).failing.length === 0 ? true : undefined), 90_000, 'the waiting leads to be delivered');
        assert.deepEqual(await listed('state=failed'), [ids.refused], 'only the lead that gave up is left');
        assert.deepEqual((await health()).failing, {});
        const replay = await fetch(`${app.url}/api/console/replay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ leadIds: [ids.refused] }) });
        assert.equal(replay.status, 200);
        await eventually(async () => ((await attention()).poisoned.length === 0 && (await attention()).failing.length === 0 ? true : undefined), 30_000, 'the replayed lead to be delivered');
        assert.equal((await health()).poisonCount, 0);
        assert.deepEqual(await listed('state=failed'), []);
        assert.deepEqual(await listed('state=poisoned'), []);
        const detail = await read<{ destinations: { destination: string; state: string }[] }>(`leads/${ids.refused ?? ''}`);
        assert.equal(detail.destinations.find((d) => d.destination === 'webhook')?.state, 'delivered');
    });

    it('finds a lead by its whole e-mail address, in any case', async () => {
        assert.deepEqual(await listed(`q=${encodeURIComponent('  ADA@refusedltd.example ')}`), [ids.refused]);
        assert.deepEqual(await listed(`q=${encodeURIComponent('nobody@refusedltd.example')}`), []);
    });
});
