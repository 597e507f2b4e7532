import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { leadIdsIn, parseMail } from '../helpers/mime';
import { freePort, postLead, startApp, tempDir, type RunningApp } from '../helpers/processes';
import { eventually } from '../helpers/queues';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until just after a five-second tick, so that leads posted now are all stored before the next one. */
async function justAfterTick(): Promise<void> {
    await sleep(5000 - (Date.now() % 5000) + 300);
}

function lead(n: number, extra: Record<string, unknown> = {}) {
    return {
        UserDetails: { FirstName: 'Jane', LastName: `Doe${n}`, Email: `jane.doe${n}@contoso.com`, Phone: '+1 617 555 0100', Company: 'Contoso', Country: 'US' },
        LeadSource: 'AzurePortal-Create|contoso.analytics',
        OfferTitle: 'Contoso Analytics',
        ...extra,
    };
}

describe('the app mails digests through SMTP on its schedule', () => {
    let azurite: Azurite;
    let smtp: TestSmtpServer;
    let app: RunningApp;
    let env: Record<string, string>;
    let port: number;

    before(async () => {
        azurite = await startAzurite();
        smtp = await startSmtpServer();
        port = await freePort();
        env = {
            AzureWebJobsStorage: azurite.connectionString,
            EMAIL_TRANSPORT: 'smtp',
            SMTP_HOST: '127.0.0.1',
            SMTP_PORT: String(smtp.port),
            SMTP_SECURE: 'false',
            NOTIFY_TO: 'ops@contoso.example; sales@contoso.example',
            NOTIFY_FROM: 'leads@contoso.example',
            NOTIFY_SCHEDULE: '*/5 * * * * *',
        };
        app = await startApp({ env, port });
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await app?.stop();
        await smtp?.close();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    const post = (body: unknown) => postLead(app.url, body);

    it('sends one e-mail to both addresses for three leads, one more for a fourth, escapes lead text, and re-sends nothing after a restart', async () => {
        await justAfterTick();
        const ids = [await post(lead(1)), await post(lead(2)), await post(lead(3))];
        const first = await eventually(() => (smtp.mails.length >= 1 ? smtp.mails[0] : undefined), 12_000, 'the first digest');
        await sleep(5500);
        assert.equal(smtp.mails.length, 1, 'one e-mail for the three leads');
        const digest = parseMail(first.raw);
        assert.deepEqual(first.to.sort(), ['ops@contoso.example', 'sales@contoso.example']);
        assert.equal(digest.subject, '3 new marketplace leads — Contoso Analytics (3)');
        assert.deepEqual(leadIdsIn(digest).sort(), [...ids].sort());
        assert.doesNotMatch(first.raw, /jane\.doe\d@contoso\.com/, 'no customer e-mail in clear');

        const fourth = await post(
            lead(4, { UserDetails: { FirstName: '<script>alert("x")</script>', LastName: 'Evil', Email: 'evil@contoso.com', Company: 'Evil Corp\r\nBcc: victim@example.com' }, OfferTitle: 'Fabrikam\r\nX-Injected: yes' }),
        );
        const second = await eventually(() => smtp.mails[1], 15_000, 'the second digest');
        const secondDigest = parseMail(second.raw);
        assert.deepEqual(leadIdsIn(secondDigest), [fourth]);
        assert.doesNotMatch(secondDigest.html, /<script>/);
        assert.match(secondDigest.html, /&#60;script&#62;/);
        assert.equal(secondDigest.headers.has('x-injected'), false);
        assert.equal(secondDigest.headers.has('bcc'), false);
        assert.deepEqual(second.to.sort(), ['ops@contoso.example', 'sales@contoso.example']);

        assert.equal(await app.stop(), 0);
        app = await startApp({ env, port });
        await sleep(11_000);
        assert.equal(smtp.mails.length, 2, 'nothing is sent again after a restart');
    });
});

describe('with the default transport, npm start writes digests to the outbox folder', () => {
    it('prints the folder and writes a digest there as an .eml file', async () => {
        const azurite = await startAzurite();
        const outbox = join(tempDir('outbox'), 'outbox');
        const app = await startApp({ env: { AzureWebJobsStorage: azurite.connectionString, OUTBOX_DIR: outbox, NOTIFY_SCHEDULE: '*/2 * * * * *' }, port: await freePort() });
        try {
            assert.match(app.output(), new RegExp(`Mail: digests are written as \\.eml files to ${outbox.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} for 2 recipient\\(s\\)`));
            const response = await fetch(`${app.url}/api/leads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(lead(9)) });
            const { id } = (await response.json()) as { id: string };
            const file = await eventually(() => (existsSync(outbox) ? readdirSync(outbox).find((name) => name.endsWith('.eml')) : undefined), 15_000, 'an .eml file');
            const mail = parseMail(readFileSync(join(outbox, file), 'utf8'));
            assert.deepEqual(leadIdsIn(mail), [id]);
            assert.equal(mail.headers.get('to'), 'sales@contoso.example, marketing@contoso.example');
        } finally {
            await app.stop();
            await azurite.stop();
        }
    });

    it('in Azure, refuses the outbox naming EMAIL_TRANSPORT, and still delivers every lead', async () => {
        const azurite = await startAzurite();
        const outbox = join(tempDir('outbox'), 'outbox');
        const env = { AzureWebJobsStorage: azurite.connectionString, OUTBOX_DIR: outbox, NOTIFY_SCHEDULE: '*/2 * * * * *', WEBSITE_SKU: 'FlexConsumption' };
        const app = await startApp({ env, port: await freePort() });
        try {
            assert.match(app.output(), /Mail will not go out: EMAIL_TRANSPORT is "outbox": .*read-only in Azure/);
            const id = await postLead(app.url, lead(10));
            const table = TableClient.fromConnectionString(azurite.connectionString, 'MarketplaceLeads', { allowInsecureConnection: true });
            const stored = async () => {
                const first = await table.listEntities({ queryOptions: { filter: `LeadId eq '${id}'` } }).next();
                return first.done === true ? undefined : first.value;
            };
            await eventually(() => stored().catch(() => undefined), 15_000, 'the lead in the table');
            const refusals = () => app.output().split('EMAIL_TRANSPORT is "outbox"').length - 1;
            await eventually(() => (refusals() >= 2 ? true : undefined), 15_000, 'a digest run refused, after the warning at start');
            assert.equal(existsSync(outbox), false, 'nothing written into the app folder');
        } finally {
            await app.stop();
            await azurite.stop();
        }
    });

    it('reads a table the marketplace writes from its own account, through NOTIFY_SOURCE_CONNECTION', async () => {
        const [azurite, marketplace] = await Promise.all([startAzurite(), startAzurite()]);
        const outbox = join(tempDir('outbox'), 'outbox');
        const written = TableClient.fromConnectionString(marketplace.connectionString, 'MarketplaceWritten', { allowInsecureConnection: true });
        await written.createTable();
        const customer = { FirstName: 'Ann', Email: 'ann@fabrikam.com', Company: 'Fabrikam' };
        await written.createEntity({
            partitionKey: 'contoso.analytics',
            rowKey: 'mkt-1',
            LeadSource: 'AzureMarketplace-INS|contoso.analytics',
            ActionCode: 'INS',
            OfferDisplayName: 'Contoso Analytics',
            CustomerInfo: JSON.stringify(customer),
            CreatedTime: new Date().toISOString(),
        });
        const env = {
            AzureWebJobsStorage: azurite.connectionString,
            OUTBOX_DIR: outbox,
            NOTIFY_SCHEDULE: '*/2 * * * * *',
            NOTIFY_SOURCE_TABLE: 'MarketplaceWritten',
            NOTIFY_SOURCE_CONNECTION: marketplace.connectionString,
        };
        const app = await startApp({ env, port: await freePort() });
        try {
            const file = await eventually(() => (existsSync(outbox) ? readdirSync(outbox).find((name) => name.endsWith('.eml')) : undefined), 15_000, 'an .eml file');
            assert.match(parseMail(readFileSync(join(outbox, file), 'utf8')).text, /a\*\*\*@fabrikam\.com/);
        } finally {
            await app.stop();
            await Promise.all([azurite.stop(), marketplace.stop()]);
        }
    });
});
