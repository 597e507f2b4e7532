import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvocationContext } from '@azure/functions';
import { TableClient, type TableTransaction } from '@azure/data-tables';
import { AlertStore } from '../../src/alert/alertStore';
import { consoleUrl } from '../../src/alert/consoleUrl';
import { LeadArrivals } from '../../src/alert/leadArrivals';
import { runAlerts, type AlertServices } from '../../src/alert/sendAlerts';
import { readSettings } from '../../src/config/settings';
import { healthOf } from '../../src/console/health';
import { parseLeadQuery } from '../../src/console/leadQuery';
import { renderListPage } from '../../src/console/render';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { parseLead } from '../../src/intake/parseLead';
import { importReceiptPrefix, type Lead } from '../../src/lead/lead';
import { MailDownError, maxRecipientRetries, runNotification, type NotifyServices } from '../../src/notify/notifyContacts';
import { AppLeadsTableSource, MarketplaceTableSource } from '../../src/notify/sources';
import { SmtpTransport, type SmtpTimeouts } from '../../src/notify/transports/smtp';
import { MailRefusedError, type MailTransport } from '../../src/notify/transports/transport';
import type { Attention } from '../../src/console/attention';
import { leadEntity, LeadsTable, rowKeysFor } from '../../src/store/leadsTable';
import { listSetAside, NotifyProgressStore } from '../../src/notify/notifyProgress';
import { leadIdsIn, parseMail, type ParsedMail } from '../helpers/mime';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp';

const quiet = () => new InvocationContext({ logHandler: () => undefined });
/** Nothing in the attention index or the poison queues. */
const noAttention: Attention = { poisoned: [], poisonCount: 0, failing: [], setAside: [] };

describe('notification runs against Azurite and a real SMTP server', () => {
    let azurite: Azurite;
    let smtp: TestSmtpServer;
    let tableCount = 0;

    before(async () => {
        azurite = await startAzurite();
        smtp = await startSmtpServer();
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await smtp?.close();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    /** A fresh leads table and notifier for one scenario. */
    async function scenario(extra: Record<string, string> = {}) {
        const leadsTable = `Leads${++tableCount}`;
        const settings = readSettings({
            AzureWebJobsStorage: azurite.connectionString,
            LEADS_TABLE: leadsTable,
            NOTIFY_STATE_TABLE: `Progress${tableCount}`,
            ALERTS_TABLE: `Alerts${tableCount}`,
            DELIVERIES_TABLE: `Deliveries${tableCount}`,
            NOTIFY_TO: 'ops@contoso.example; sales@contoso.example',
            NOTIFY_FROM: 'leads@contoso.example',
            EMAIL_TRANSPORT: 'smtp',
            SMTP_HOST: '127.0.0.1',
            SMTP_PORT: String(smtp.port),
            SMTP_SECURE: 'false',
            ...extra,
        });
        const table = await LeadsTable.connect(azurite.connectionString, leadsTable);
        const services = async (): Promise<NotifyServices> => {
            const source = await AppLeadsTableSource.connect(azurite.connectionString, leadsTable);
            return {
                settings,
                source,
                progress: await NotifyProgressStore.connect(azurite.connectionString, settings.NOTIFY_STATE_TABLE, source.name),
                transport: new SmtpTransport(settings),
                alerts: await AlertStore.connect(azurite.connectionString, settings.ALERTS_TABLE),
            };
        };
        const alertServices = async (): Promise<AlertServices> => ({
            settings,
            store: await AlertStore.connect(azurite.connectionString, settings.ALERTS_TABLE),
            leads: await LeadArrivals.connect(azurite.connectionString, settings.LEADS_TABLE),
            transport: new SmtpTransport(settings),
            consoleUrl: consoleUrl(settings, {}),
        });
        const svc = await services();
        const mailsBefore = smtp.mails.length;
        let n = 0;
        return {
            table,
            svc,
            /** A notifier as a freshly started app would build it. */
            restart: services,
            run: (using = svc) => runNotification(using, quiet()),
            runAlerts: async () => runAlerts(await alertServices(), quiet()),
            health: async () => healthOf(settings, table, noAttention),
            /** The alert events in ALERTS_TABLE: kind, key and whether they were mailed. */
            async alertEvents(): Promise<{ kind: string; key: string; sent: boolean }[]> {
                const client = TableClient.fromConnectionString(azurite.connectionString, settings.ALERTS_TABLE, { allowInsecureConnection: true });
                const events: { kind: string; key: string; sent: boolean }[] = [];
                for await (const row of client.listEntities<{ partitionKey: string; rowKey: string; Sent?: boolean }>())
                    if (row.rowKey.startsWith('e_')) events.push({ kind: row.partitionKey, key: row.rowKey, sent: row.Sent === true });
                return events;
            },
            newMails: () => smtp.mails.slice(mailsBefore).map((m) => ({ ...m, ...parseMail(m.raw) })),
            async store(count: number, fields: Record<string, unknown> = {}): Promise<Lead[]> {
                const leads: Lead[] = [];
                for (let i = 0; i < count; i++) {
                    const body = {
                        UserDetails: { FirstName: 'Jane', LastName: 'Doe', Email: `jane${++n}@contoso.com`, Phone: '+1 617 555 0123', Company: 'Contoso' },
                        LeadSource: 'AzurePortal-Create|contoso.analytics',
                        OfferTitle: 'Contoso Analytics',
                        ...fields,
                    };
                    const lead = parseLead(JSON.stringify(body), 'json', { receivedAt: new Date(), receiptId: `r${n}` });
                    await table.insert(lead, rowKeysFor(lead.id, new Date()));
                    leads.push(lead);
                }
                return leads;
            },
        };
    }

    it("links each lead of a digest to its page in the console when the console's address is known, and to nothing otherwise", async () => {
        const s = await scenario();
        const [lead] = await s.store(1);
        assert.ok(lead);
        assert.deepEqual(await s.run({ ...s.svc, consoleUrl: 'https://leads.contoso.example/api/console/' }), { digests: 1, leads: 1 });
        const [mail] = s.newMails();
        assert.match(mail?.text ?? '', new RegExp(`Lead id: ${lead.id}\r?\n\\s+Console: https://leads\\.contoso\\.example/api/console/view/${lead.id}\r?\n`));
        assert.match(mail?.html ?? '', new RegExp(`<a href="https://leads\\.contoso\\.example/api/console/view/${lead.id}">Open the lead</a>`));
        await s.store(1);
        assert.deepEqual(await s.run(), { digests: 1, leads: 1 });
        const [, unlinked] = s.newMails();
        assert.doesNotMatch(`${unlinked?.text ?? ''}${unlinked?.html ?? ''}`, /Console|\/view\//);
    });

    it('sends nothing when there is nothing new', async () => {
        const s = await scenario();
        assert.deepEqual(await s.run(), { digests: 0, leads: 0 });
        assert.equal(s.newMails().length, 0);
    });

    it('sends one mail listing 3 new leads to every address, with the count and offers in the subject and e-mails masked', async () => {
        const s = await scenario();
        const leads = await s.store(2);
        leads.push(...(await s.store(1, { LeadSource: 'AppSource (SPZA)-PLT|fabrikam.crm', OfferTitle: 'Fabrikam CRM' })));
        assert.deepEqual(await s.run(), { digests: 1, leads: 3 });
        const [mail, ...others] = s.newMails();
        assert.equal(others.length, 0);
        assert.ok(mail);
        assert.deepEqual(mail.to.sort(), ['ops@contoso.example', 'sales@contoso.example']);
        assert.equal(mail.subject, '3 new marketplace leads — Contoso Analytics (2), Fabrikam CRM (1)');
        assert.deepEqual(leadIdsIn(mail).sort(), leads.map((l) => l.id).sort());
        assert.match(mail.text, /Azure portal — purchased \(Create\)/);
        assert.match(mail.text, /AppSource — contact me \(PLT\)/);
        assert.match(mail.text, /j\*\*\*@contoso\.com/);
        assert.match(mail.text, /\*{9}23/);
        assert.doesNotMatch(mail.raw, /jane\d+@contoso\.com/);
        assert.match(mail.html, /<li>/);
        assert.equal(await s.run().then((r) => r.digests), 0, 'a second run finds nothing new');
    });

    it('sends no more digests in one run than its transport allows (an Azure-managed ACS domain: one), and the rest on the next runs', async () => {
        const s = await scenario({ NOTIFY_MAX_LEADS_PER_MAIL: '2' });
        const leads = await s.store(5);
        const rationed = Object.assign(Object.create(s.svc.transport) as MailTransport, { maxSendsPerRun: 1 });
        const svc = { ...s.svc, transport: rationed };
        assert.deepEqual(await s.run(svc), { digests: 1, leads: 2 });
        assert.deepEqual(await s.run(svc), { digests: 1, leads: 2 });
        assert.deepEqual(await s.run(svc), { digests: 1, leads: 1 });
        assert.deepEqual(s.newMails().flatMap(leadIdsIn).sort(), leads.map((l) => l.id).sort(), 'each lead once');
    });

    it('retries a digest whose send failed on the next run, once', async () => {
        const s = await scenario();
        const leads = await s.store(2);
        smtp.refuseNext(1);
        await assert.rejects(s.run(), /451|Try again later/);
        assert.equal(s.newMails().length, 0);
        assert.deepEqual(await s.run(), { digests: 1, leads: 2 });
        assert.deepEqual(leadIdsIn(s.newMails()[0]).sort(), leads.map((l) => l.id).sort());
        assert.equal((await s.run()).digests, 0);
    });

    it('lets only one of two concurrent runs send', async () => {
        const s = await scenario();
        await s.store(3);
        const other = await s.restart();
        const reports = await Promise.all([s.run(), s.run(other)]);
        assert.equal(
            reports.reduce((sum, r) => sum + r.digests, 0),
            1,
        );
        assert.equal(s.newMails().length, 1);
        assert.ok(reports.some((r) => r.skipped === 'another run holds the lease'));
    });

    it('does not notify again when a row is updated (an occurrence counted)', async () => {
        const s = await scenario();
        const [lead] = await s.store(1);
        assert.equal((await s.run()).leads, 1);
        const table = TableClient.fromConnectionString(azurite.connectionString, s.svc.settings.LEADS_TABLE, { allowInsecureConnection: true });
        for await (const row of table.listEntities<{ partitionKey: string; rowKey: string }>()) await table.updateEntity({ partitionKey: row.partitionKey, rowKey: row.rowKey, Occurrences: 2 }, 'Merge');
        assert.ok(lead);
        assert.deepEqual(await s.run(), { digests: 0, leads: 0 });
        assert.equal(s.newMails().length, 1);
    });

    it('does not mail an imported lead as new, even one created minutes ago, and mails the live lead beside it', async () => {
        const s = await scenario();
        const [live] = await s.store(1);
        const createdAt = new Date(Date.now() - 2 * 60_000);
        const body = { UserDetails: { Email: 'imported@contoso.com', Company: 'Imported Ltd' }, LeadSource: 'AzurePortal-Create|contoso.analytics' };
        const imported = parseLead(JSON.stringify(body), 'json', { receivedAt: createdAt, receiptId: `${importReceiptPrefix}minutes-ago` });
        await s.table.insert(imported, rowKeysFor(imported.id, createdAt));
        assert.deepEqual(await s.run(), { digests: 1, leads: 1 });
        const [mail] = s.newMails();
        assert.ok(mail && live);
        assert.deepEqual(leadIdsIn(mail), [live.id]);
        assert.deepEqual(await s.run(), { digests: 0, leads: 0 });
    });

    it('re-sends nothing after a restart, and picks up what came while it was down', async () => {
        const s = await scenario();
        await s.store(2);
        await s.run();
        const restarted = await s.restart();
        assert.equal((await s.run(restarted)).digests, 0);
        await s.store(1);
        assert.deepEqual(await s.run(await s.restart()), { digests: 1, leads: 1 });
        assert.equal(s.newMails().length, 2);
    });

    it('notifies 10,000 waiting leads in bounded digests, each lead once', async () => {
        const s = await scenario({ NOTIFY_MAX_LEADS_PER_MAIL: '1500' });
        const client = TableClient.fromConnectionString(azurite.connectionString, s.svc.settings.LEADS_TABLE, { allowInsecureConnection: true });
        await s.table.ensureTable();
        const start = Date.now() - 60 * 60_000;
        const ids: string[] = [];
        for (let batch = 0; batch < 100; batch++) {
            const actions: TableTransaction['actions'] = [];
            for (let i = 0; i < 100; i++) {
                const n = batch * 100 + i;
                const lead = parseLead(JSON.stringify({ UserDetails: { Email: `bulk${n}@contoso.com` }, LeadSource: 'AzureMarketplace-INS|contoso.analytics' }), 'json', {
                    receivedAt: new Date(start),
                    receiptId: `b${n}`,
                });
                ids.push(lead.id);
                actions.push(['create', { ...leadEntity(lead, rowKeysFor(lead.id, new Date(start + n))) }]);
            }
            await client.submitTransaction(actions);
        }
        const first = await s.run();
        assert.equal(first.digests, 7);
        assert.equal(first.leads, 10_000);
        const mails = s.newMails();
        assert.ok(mails.every((m) => leadIdsIn(m).length <= 1500));
        const notified = mails.flatMap(leadIdsIn);
        assert.equal(notified.length, 10_000);
        assert.equal(new Set(notified).size, 10_000);
        assert.deepEqual(new Set(notified), new Set(ids));
        assert.equal((await s.run()).digests, 0);
    });

    it('finds a lead whose row became visible after a later one was already notified', async () => {
        const s = await scenario();
        const [late] = await s.store(1);
        assert.ok(late);
        const stored = new Date(Date.now() - 30_000);
        await s.run();
        // A row keyed 30 s ago that only appears now, as after a slow insert.
        const lead = parseLead(JSON.stringify({ UserDetails: { Email: 'slow@contoso.com' }, LeadSource: 'AzureMarketplace-INS|a.b' }), 'json', { receivedAt: stored, receiptId: 'slow' });
        await s.table.insert(lead, rowKeysFor(lead.id, stored));
        const report = await s.run();
        assert.deepEqual(report, { digests: 1, leads: 1 });
        assert.deepEqual(leadIdsIn(s.newMails()[1]), [lead.id]);
    });

    it('mails a row keyed five minutes in the past (an instance whose clock is behind) that appears after a run, once', async () => {
        const s = await scenario();
        await s.store(1);
        await s.run();
        const skewed = new Date(Date.now() - 5 * 60_000);
        const lead = parseLead(JSON.stringify({ UserDetails: { Email: 'skew@contoso.com' }, LeadSource: 'AzureMarketplace-INS|a.b' }), 'json', { receivedAt: skewed, receiptId: 'skew' });
        await s.table.insert(lead, rowKeysFor(lead.id, skewed));
        assert.deepEqual(await s.run(), { digests: 1, leads: 1 });
        assert.deepEqual(leadIdsIn(s.newMails()[1]), [lead.id]);
        assert.equal((await s.run()).digests, 0);
    });

    it('finds the lead a mail server refuses for good by splitting the digest, sets it aside, and mails the rest and what comes later', async () => {
        const s = await scenario();
        const good = await s.store(2);
        const [spam] = await s.store(1, { UserDetails: { FirstName: 'Jane', Email: 'spam@spamco.example', Company: 'SpamCo' } });
        good.push(...(await s.store(2)));
        smtp.refuseMatching(/SpamCo/);
        try {
            const report = await s.run();
            assert.equal(report.leads, 4);
            assert.equal(report.setAside, 1);
            const mailed = s.newMails().flatMap(leadIdsIn);
            assert.deepEqual(mailed.sort(), good.map((l) => l.id).sort(), 'every other lead once');
            const later = await s.store(1);
            assert.deepEqual(await s.run(), { digests: 1, leads: 1 }, 'later digests are not blocked');
            assert.deepEqual(leadIdsIn(s.newMails().at(-1)), [later[0]?.id]);
            const aside = await listSetAside(azurite.connectionString, s.svc.settings.NOTIFY_STATE_TABLE);
            assert.deepEqual(
                aside.map((a) => [a.kind, a.subject]),
                [['lead', spam?.id]],
            );
            assert.match(aside[0]?.reason ?? '', /554 5\.7\.1/);
        } finally {
            smtp.refuseMatching(undefined);
        }
    });

    /** Exactly one digest was mailed, listing these leads. */
    const assertOneDigestOf = (mails: ParsedMail[], leads: readonly Lead[]) => {
        const [mail, ...others] = mails;
        assert.equal(others.length, 0);
        assert.deepEqual(leadIdsIn(mail).sort(), leads.map((l) => l.id).sort());
    };

    /** Each lead's Message-IDs among the digests mailed. */
    const messageIdsOf = (mails: ParsedMail[]) => {
        const ids = new Map<string, string[]>();
        for (const mail of mails) for (const id of leadIdsIn(mail)) ids.set(id, [...(ids.get(id) ?? []), mail.headers.get('message-id') ?? '']);
        return ids;
    };

    it('keeps the leads waiting while the server refuses the sender (554 5.2.252 SendAsDenied): one send a run, none set aside, mail shown down, the alert kept; then mails each lead once, and the alert', async () => {
        const s = await scenario({ ALERT_TO: 'alerts@contoso.example' });
        const sendsOf = async (run: () => Promise<unknown>, refusal: RegExp | ((error: unknown) => boolean)) => {
            const before = smtp.received.length;
            await assert.rejects(run(), refusal);
            return smtp.received.length - before;
        };
        const leads = await s.store(3);
        const started = new Date().toISOString();
        const notifySends: number[] = [];
        const alertSends: number[] = [];
        smtp.refuseEvery({ code: 554, text: '5.2.252 SendAsDenied; leads@contoso.example not allowed to send as leads@contoso.example' });
        try {
            for (let round = 0; round < 3; round++) {
                if (round === 1) leads.push(...(await s.store(3)));
                notifySends.push(
                    await sendsOf(
                        () => s.run(),
                        (error: unknown) => error instanceof MailRefusedError && error.of === 'sending' && /554 5\.2\.252/.test(error.message),
                    ),
                );
                alertSends.push(await sendsOf(() => s.runAlerts(), /554 5\.2\.252/));
            }
            // The leads that arrived while the digest waited are tried once on their own: the server might take them.
            assert.deepEqual(notifySends, [1, 2, 1], 'no splitting: one send a run, and one more for newer leads');
            assert.deepEqual(alertSends, [1, 1, 1]);
            assert.deepEqual(await listSetAside(azurite.connectionString, s.svc.settings.NOTIFY_STATE_TABLE), [], 'no lead set aside');
            const health = await s.health();
            assert.ok(health.digestsFailing && health.digestsFailing.since >= started, 'the health strip shows digests failing');
            assert.match(health.digestsFailing.reason, /554 5\.2\.252/);
            assert.match(health.alertsFailing?.reason ?? '', /554 5\.2\.252/, 'and alert mail failing');
            const page = renderListPage({ query: parseLeadQuery(new URLSearchParams()), page: { items: [], scanned: 0 }, health, attention: noAttention });
            assert.match(page, /data-health="mail-down"><dt>Mail is down<\/dt><dd><span class="bad">Digests failing since <time[^>]*>[^<]*<\/time>: [^<]*554 5\.2\.252[^<]*<br>Alert mail failing since /);
            const events = await s.alertEvents();
            assert.deepEqual(
                events.map((e) => [e.kind, e.sent]),
                [['mail-down', false]],
                'one event for the outage, not marked sent',
            );
        } finally {
            smtp.refuseEvery(undefined);
        }
        assert.equal(s.newMails().length, 0);

        const report = await s.run();
        assert.deepEqual([report.digests, report.leads, report.setAside], [2, 6, undefined]);
        const mailed = messageIdsOf(s.newMails());
        assert.deepEqual([...mailed.keys()].sort(), leads.map((l) => l.id).sort(), 'every lead mailed');
        for (const [id, messageIds] of mailed) assert.equal(messageIds.length, 1, `lead ${id} once`);
        assert.equal((await s.run()).digests, 0);
        assert.equal((await s.runAlerts()).mails, 1);
        const alert = smtp.mails.at(-1);
        assert.deepEqual(alert?.to, ['alerts@contoso.example']);
        assert.match(parseMail(alert.raw).subject, /Digests could not be sent/);
        assert.match(parseMail(alert.raw).text, /554 5\.2\.252/);
        assert.deepEqual(
            (await s.alertEvents()).map((e) => e.sent),
            [true],
        );
        const health = await s.health();
        assert.equal(health.digestsFailing, undefined, 'a digest sent ends it');
        assert.equal(health.alertsFailing, undefined);
        assert.ok(health.lastDigestAt && health.lastDigestAt >= started, 'and the last digest is shown');
    });

    it('takes a refusal without a code that says whose it is, of every part and every lead alone, for the server: a few sends, none set aside, then one send a run, and each lead mailed once after', async () => {
        const s = await scenario();
        const leads = await s.store(6);
        smtp.refuseEvery({ code: 554, text: 'Transaction failed' });
        const before = smtp.received.length;
        try {
            await assert.rejects(s.run(), MailDownError);
            assert.equal(smtp.received.length - before, 5, 'six, then three, two and one lead, and one more alone: no lead is set aside on the word of a server that takes nothing');
            assert.match((await s.health()).digestsFailing?.reason ?? '', /refused every digest.*\(554\)/);
            await assert.rejects(s.run(), /554/);
            assert.equal(smtp.received.length - before, 6, 'then the whole digest, once a run');
            assert.deepEqual(await listSetAside(azurite.connectionString, s.svc.settings.NOTIFY_STATE_TABLE), []);
        } finally {
            smtp.refuseEvery(undefined);
        }
        assert.deepEqual(await s.run(), { digests: 1, leads: 6 });
        assertOneDigestOf(s.newMails(), leads);
    });

    it('sets aside a lone lead refused for its content once a newer lead shows the server takes mail', async () => {
        const s = await scenario();
        const [spam] = await s.store(1, { UserDetails: { FirstName: 'Jane', Email: 'spam@spamco.example', Company: 'SpamCo' } });
        smtp.refuseMatching(/SpamCo/);
        try {
            await assert.rejects(s.run(), MailDownError, 'alone, it cannot be told from a server that refuses everything');
            assert.deepEqual(await listSetAside(azurite.connectionString, s.svc.settings.NOTIFY_STATE_TABLE), []);
            await assert.rejects(s.run(), /554 5\.7\.1/);
            const [good] = await s.store(1);
            assert.deepEqual(await s.run(), { digests: 1, leads: 1, setAside: 1 });
            assert.deepEqual(s.newMails().flatMap(leadIdsIn), [good?.id]);
            const aside = await listSetAside(azurite.connectionString, s.svc.settings.NOTIFY_STATE_TABLE);
            assert.deepEqual(
                aside.map((a) => [a.kind, a.subject]),
                [['lead', spam?.id]],
            );
            assert.equal((await s.health()).digestsFailing, undefined);
        } finally {
            smtp.refuseMatching(undefined);
        }
    });

    it('reports a refused recipient honestly, sends it the same digest again on the next runs, then sets it aside', async () => {
        const s = await scenario();
        const [lead] = await s.store(1);
        smtp.refuseRecipients(['sales@contoso.example']);
        const logs: string[] = [];
        const logging = () => new InvocationContext({ logHandler: (_level, ...args: unknown[]) => logs.push(args.map(String).join(' ')) });
        try {
            assert.deepEqual(await runNotification(s.svc, logging()), { digests: 1, leads: 1 });
            assert.ok(
                logs.some((line) => /to 1 of 2 recipient\(s\)/.test(line)),
                logs.join('\n'),
            );
            assert.ok(
                logs.some((line) => /refused the recipient sales@contoso\.example \(550 5\.1\.1\).*again on the next run/.test(line)),
                logs.join('\n'),
            );
            const aside = () => listSetAside(azurite.connectionString, s.svc.settings.NOTIFY_STATE_TABLE);
            for (let retry = 1; retry <= maxRecipientRetries; retry++) {
                assert.deepEqual(await aside(), [], `not set aside before re-send ${retry}`);
                assert.deepEqual(await runNotification(s.svc, logging()), { digests: 0, leads: 0, resent: 1 }, `re-send ${retry}`);
            }
            const [entry, ...more] = await aside();
            assert.equal(more.length, 0);
            assert.deepEqual([entry?.kind, entry?.subject], ['recipient', 'sales@contoso.example']);
            assert.match(entry?.reason ?? '', /550 5\.1\.1.*4 time\(s\)/);
            assert.deepEqual(await s.run(), { digests: 0, leads: 0 }, 'once set aside, it is not sent again');
        } finally {
            smtp.refuseRecipients([]);
        }
        const mails = s.newMails();
        assert.equal(mails.length, 1);
        assert.deepEqual(mails[0]?.to, ['ops@contoso.example']);
        assert.deepEqual(leadIdsIn(mails[0]), [lead?.id]);
    });

    it('sends a refused recipient the same digest (same Message-ID) once the server takes it again, and only that recipient', async () => {
        const s = await scenario();
        await s.store(2);
        smtp.refuseRecipients(['sales@contoso.example']);
        try {
            assert.deepEqual(await s.run(), { digests: 1, leads: 2 });
        } finally {
            smtp.refuseRecipients([]);
        }
        const later = await s.store(1);
        assert.deepEqual(await s.run(), { digests: 1, leads: 1, resent: 1 }, 'the kept digest, then the new lead');
        const [first, again, next] = s.newMails();
        assert.deepEqual(first?.to, ['ops@contoso.example']);
        assert.deepEqual(again?.to, ['sales@contoso.example']);
        assert.equal(again.headers.get('message-id'), first.headers.get('message-id'));
        assert.deepEqual(leadIdsIn(again).sort(), leadIdsIn(first).sort());
        assert.deepEqual(next?.to.sort(), ['ops@contoso.example', 'sales@contoso.example']);
        assert.deepEqual(leadIdsIn(next), [later[0]?.id]);
        assert.deepEqual(await s.run(), { digests: 0, leads: 0 }, 'nothing kept any more');
        assert.deepEqual(await listSetAside(azurite.connectionString, s.svc.settings.NOTIFY_STATE_TABLE), []);
    });

    it('fails the send when every recipient is refused (permanent for 550s), sets no lead aside, and sends the digest once they are taken', async () => {
        const s = await scenario();
        const leads = await s.store(2);
        smtp.refuseRecipients(['ops@contoso.example', 'sales@contoso.example']);
        try {
            await assert.rejects(s.run(), (error: unknown) => error instanceof MailRefusedError && error.of === 'recipients' && error.permanent && error.refused.length === 2);
        } finally {
            smtp.refuseRecipients([]);
        }
        assert.deepEqual(await listSetAside(azurite.connectionString, s.svc.settings.NOTIFY_STATE_TABLE), [], 'no lead is to blame');
        assert.deepEqual(await s.run(), { digests: 1, leads: 2 });
        assertOneDigestOf(s.newMails(), leads);
    });

    it('after a crash between the server accepting a digest and the progress being saved, sends the same digest with the same Message-ID, then goes on', async () => {
        const s = await scenario();
        const first = await s.store(2);
        // The send goes through; the run dies before it can record that (as if the instance stopped).
        const crashing: NotifyServices = {
            ...s.svc,
            transport: {
                ...s.svc.transport,
                name: 'smtp',
                description: '',
                send: async (mail) => {
                    await s.svc.transport.send(mail);
                    throw new Error('killed');
                },
            },
        };
        await assert.rejects(s.run(crashing), /killed/);
        const later = await s.store(1);
        assert.deepEqual(await s.run(await s.restart()), { digests: 2, leads: 3 });
        const mails = s.newMails();
        assert.equal(mails.length, 3);
        const [sent, again, next] = mails.map((m) => ({ id: m.headers.get('message-id'), leads: leadIdsIn(m) }));
        assert.equal(again?.id, sent?.id, 'the repeat is the same message');
        assert.deepEqual(again?.leads.sort(), first.map((l) => l.id).sort());
        assert.notEqual(next?.id, sent?.id);
        assert.deepEqual(next?.leads, [later[0]?.id], 'no lead under two Message-IDs');
        assert.equal((await s.run()).digests, 0);
    });

    /** The scenario's notifier, with an SMTP client that waits this long. */
    const waiting = (svc: NotifyServices, timeouts: Partial<SmtpTimeouts>): NotifyServices => ({
        ...svc,
        transport: new SmtpTransport(svc.settings, { connectMs: 5_000, replyMs: 60_000, totalMs: 60_000, ...timeouts }),
    });

    it('waits for a server that answers the end of a digest late, within the reply time-out, and does not send it again', async () => {
        const s = await scenario();
        await s.store(1);
        smtp.answerNextAfter(1_500);
        const patient = waiting(s.svc, { replyMs: 4_000, totalMs: 6_000 });
        assert.deepEqual(await s.run(patient), { digests: 1, leads: 1 });
        assert.equal((await s.run(patient)).digests, 0);
        assert.equal(s.newMails().length, 1);
    });

    it('gives up on an answer later than its time-out, and then sends the same digest again with the same Message-ID (the remaining window)', async () => {
        for (const timeouts of [{ replyMs: 500 }, { totalMs: 500 }]) {
            const s = await scenario();
            const [lead] = await s.store(1);
            smtp.answerNextAfter(1_500);
            await assert.rejects(s.run(waiting(s.svc, timeouts)), /timed? ?out|within 500 ms/i);
            assert.deepEqual(await s.run(), { digests: 1, leads: 1 });
            assert.equal((await s.run()).digests, 0);
            const [late, again, ...others] = s.newMails();
            assert.equal(others.length, 0);
            assert.equal(again?.headers.get('message-id'), late?.headers.get('message-id'), 'a repeat, never a second digest');
            assert.deepEqual([...leadIdsIn(late), ...leadIdsIn(again)], [lead?.id, lead?.id]);
        }
    });

    it('lists a lead again when it comes back with new content, marked UPDATED with what changed', async () => {
        const s = await scenario();
        const [lead] = await s.store(1, { Description: 'Just looking' });
        assert.ok(lead);
        await s.run();
        const rows = TableClient.fromConnectionString(azurite.connectionString, s.svc.settings.LEADS_TABLE, { allowInsecureConnection: true });
        let keys = { partitionKey: '', rowKey: '' };
        for await (const row of rows.listEntities()) keys = { partitionKey: row.partitionKey ?? '', rowKey: row.rowKey ?? '' };
        const update = parseLead(
            JSON.stringify({
                UserDetails: { FirstName: 'Jane', LastName: 'Doe', Email: lead.customer.email, Phone: '+1 617 555 0123', Company: 'Contoso' },
                LeadSource: 'AzurePortal-Create|contoso.analytics',
                OfferTitle: 'Contoso Analytics',
                Description: 'Ready to buy 500 seats',
            }),
            'json',
            { receivedAt: new Date(), receiptId: 'update-1' },
        );
        assert.equal(await s.table.record(update, keys), 'updated');
        assert.deepEqual(await s.run(), { digests: 1, leads: 1 });
        const mail = s.newMails()[1];
        assert.match(mail?.subject ?? '', /^1 updated marketplace lead — /);
        assert.match(mail?.text ?? '', /\[UPDATED\]/);
        assert.match(mail?.text ?? '', /Changed: Description/);
        assert.match(mail?.text ?? '', new RegExp(`First seen: ${lead.receivedAt.replace(/\./g, '\\.')}`));
        assert.equal((await s.run()).digests, 0);
        const [other] = await s.store(1, { Description: 'first' });
        const otherKeys = { partitionKey: '', rowKey: '' };
        for await (const row of rows.listEntities<{ LeadId: string }>()) if (row.LeadId === other?.id) Object.assign(otherKeys, { partitionKey: row.partitionKey, rowKey: row.rowKey });
        const otherUpdate = parseLead(
            JSON.stringify({
                UserDetails: { FirstName: 'Jane', LastName: 'Doe', Email: other?.customer.email, Phone: '+1 617 555 0123', Company: 'Contoso' },
                LeadSource: 'AzurePortal-Create|contoso.analytics',
                OfferTitle: 'Contoso Analytics',
                Description: 'second',
            }),
            'json',
            { receivedAt: new Date(), receiptId: 'update-2' },
        );
        assert.equal(await s.table.record(otherUpdate, otherKeys), 'updated');
        assert.deepEqual(await s.run(), { digests: 1, leads: 2 });
        const both = s.newMails()[2];
        assert.deepEqual(leadIdsIn(both), [other?.id], 'a lead new in a digest is listed once, with its newest content');
        assert.match(both?.text ?? '', /1 new lead has arrived/);
    });

    it('escapes lead text in the HTML and keeps CR/LF out of the headers', async () => {
        const s = await scenario();
        await s.store(1, { UserDetails: { FirstName: '<script>alert(1)</script>', Company: 'Evil\r\nBcc: victim@example.com', Email: 'x@y.com' }, OfferTitle: 'Offer\r\nX-Injected: yes' });
        await s.run();
        const [mail] = s.newMails();
        assert.ok(mail);
        assert.doesNotMatch(mail.html, /<script>/);
        assert.match(mail.html, /&#60;script&#62;/);
        assert.equal(mail.headers.has('x-injected'), false);
        assert.equal(mail.headers.has('bcc'), false);
        assert.deepEqual(mail.to.sort(), ['ops@contoso.example', 'sales@contoso.example']);
        assert.match(mail.subject, /^1 new marketplace lead — Offer X-Injected: yes \(1\)$/);
    });

    it('shows everything with NOTIFY_PII=full and no contact details with none; marks test and DNC leads', async () => {
        const full = await scenario({ NOTIFY_PII: 'full' });
        await full.store(1, { LeadSource: 'AzureMarketplace-DNC|contoso.analytics' });
        await full.run();
        const [fullMail] = full.newMails();
        assert.match(fullMail?.text ?? '', /Jane Doe · jane\d+@contoso\.com · \+1 617 555 0123/);
        assert.match(fullMail?.text ?? '', /\[DO NOT CONTACT\]/);
        assert.match(fullMail?.text ?? '', /Contact: do not contact/);
        const none = await scenario({ NOTIFY_PII: 'none' });
        await none.store(1, { UserDetails: { FirstName: 'MSFT_TEST_1', Email: 'MSFT_TEST_1@test.com', Phone: '1234567890', Company: 'MSFT_TEST_1' }, LeadSource: 'MSFT_TEST_1-MSFT_TEST_1|<Offer Name>' });
        await none.run();
        const [noneMail] = none.newMails();
        assert.match(noneMail?.text ?? '', /\[TEST LEAD\]/);
        assert.doesNotMatch(noneMail?.raw ?? '', /test\.com|1234567890/i);
    });

    it('reads a table the marketplace writes itself (NOTIFY_SOURCE_TABLE) by Timestamp, and ignores updates to old rows', async () => {
        const s = await scenario({ NOTIFY_SOURCE_TABLE: `Marketplace${tableCount + 1}` });
        const name = s.svc.settings.NOTIFY_SOURCE_TABLE ?? '';
        const client = TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });
        await client.createTable();
        const row = (rowKey: string, email: string, created: string) => ({
            partitionKey: 'contoso.analytics',
            rowKey,
            LeadSource: 'AzureMarketplace-INS|contoso.analytics',
            ActionCode: 'INS',
            OfferDisplayName: 'Contoso Analytics',
            Description: '',
            CustomerInfo: JSON.stringify({ FirstName: 'Ann', Email: email, Company: 'Fabrikam' }),
            CreatedTime: created,
        });
        await client.createEntity(row('a', 'ann@fabrikam.com', new Date().toISOString()));
        const source = await MarketplaceTableSource.connect(azurite.connectionString, name);
        const svc: NotifyServices = { ...s.svc, source, progress: await NotifyProgressStore.connect(azurite.connectionString, s.svc.settings.NOTIFY_STATE_TABLE, name) };
        assert.deepEqual(await s.run(svc), { digests: 1, leads: 1 });
        await client.updateEntity({ partitionKey: 'contoso.analytics', rowKey: 'a', Description: 'edited' }, 'Merge');
        await client.createEntity(row('b', 'bob@fabrikam.com', new Date().toISOString()));
        assert.deepEqual(await s.run(svc), { digests: 1, leads: 1 });
        assert.match(s.newMails()[1]?.text ?? '', /b\*\*\*@fabrikam\.com/);
        assert.equal((await s.run(svc)).digests, 0);
        // The marketplace writes a row up to an hour after its CreatedTime.
        await client.createEntity(row('c', 'cat@fabrikam.com', new Date(Date.now() - 60 * 60_000).toISOString()));
        assert.deepEqual(await s.run(svc), { digests: 1, leads: 1 });
        assert.match(s.newMails()[2]?.text ?? '', /c\*\*\*@fabrikam\.com/);
        assert.equal((await s.run(svc)).digests, 0);
    });
});
