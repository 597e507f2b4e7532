import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import type { Lead } from '../../src/lead/lead';
import type { LeadEntity } from '../../src/store/leadsTable';
import { json, startTestServer, type TestServer } from '../helpers/httpServer';
import { parseMail } from '../helpers/mime';
import { freePort, postLead, startApp, tempDir, type RunningApp } from '../helpers/processes';
import { eventually } from '../helpers/queues';

/* A lead whose Description carries AppSource's campaign values, through intake, the table, a webhook and the digest. */
describe('campaign parameters from the Description', () => {
    let azurite: Azurite;
    let app: RunningApp;
    let webhook: TestServer;
    const outbox = join(tempDir('campaign-outbox'), 'outbox');
    const description = '{"mktcmpid":"spring-launch","utm_source":"newsletter"}';

    before(async () => {
        azurite = await startAzurite();
        webhook = await startTestServer((_request, res) => json(res, 200, { ok: true }));
        app = await startApp({
            env: {
                AzureWebJobsStorage: azurite.connectionString,
                LEAD_DESTINATIONS: 'table,webhook',
                WEBHOOK_URL: `${webhook.url}/hook`,
                OUTBOX_DIR: outbox,
                NOTIFY_TO: 'sales@contoso.example',
                NOTIFY_SCHEDULE: '0 0 0 1 1 *',
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

    it('puts mktcmpid and utm_* in their own columns, the webhook body and the digest, and keeps the Description as sent', async () => {
        const id = await postLead(app.url, {
            UserDetails: { FirstName: 'Ada', Email: 'ada@contoso.example', Company: 'Contoso' },
            LeadSource: 'AppSource (SPZA)-PLT|contoso.analytics',
            OfferTitle: 'Contoso Analytics',
            Description: description,
        });
        const table = TableClient.fromConnectionString(azurite.connectionString, 'MarketplaceLeads', { allowInsecureConnection: true });
        const row = await eventually(
            async () => {
                try {
                    for await (const entity of table.listEntities<LeadEntity>({ queryOptions: { filter: `LeadId eq '${id}'` } })) return entity;
                } catch {
                    return undefined;
                }
                return undefined;
            },
            15_000,
            'the lead in the table',
        );
        assert.equal(row.Campaign, 'spring-launch');
        assert.equal(row.UtmSource, 'newsletter');
        assert.equal(row.UtmMedium, undefined, 'no column for a value that is not there');
        assert.equal(row.Description, description);

        const hook = await eventually(() => webhook.requests.find((r) => (JSON.parse(r.body) as Lead).id === id), 15_000, 'the webhook call');
        const sent = JSON.parse(hook.body) as Lead;
        assert.deepEqual(sent.campaign, { mktcmpid: 'spring-launch', utm_source: 'newsletter' });
        assert.equal(sent.description, description);

        const fired = await fetch(`${app.url}/admin/functions/notifyContacts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        assert.equal(fired.status, 202);
        const file = await eventually(() => (existsSync(outbox) ? readdirSync(outbox).find((name) => name.endsWith('.eml')) : undefined), 15_000, 'the digest');
        const mail = parseMail(readFileSync(join(outbox, file), 'utf8'));
        assert.match(mail.text, /Campaign: mktcmpid=spring-launch, utm_source=newsletter/);
        assert.match(mail.html, /<th[^>]*>Campaign<\/th><td>mktcmpid=spring-launch, utm_source=newsletter<\/td>/);
    });
});
