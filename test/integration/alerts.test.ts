import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { InvocationContext } from '@azure/functions';
import { failingEvent, poisonedEvent } from '../../src/alert/alertEvent';
import { AlertStore } from '../../src/alert/alertStore';
import { consoleUrl } from '../../src/alert/consoleUrl';
import { LeadArrivals } from '../../src/alert/leadArrivals';
import { runAlerts, type AlertServices } from '../../src/alert/sendAlerts';
import { readSettings } from '../../src/config/settings';
import { attemptDelivery } from '../../src/deliver/deliverToDestination';
import type { DeliveryServices } from '../../src/deliver/services';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { parseLead } from '../../src/intake/parseLead';
import { importReceiptPrefix } from '../../src/lead/lead';
import { JsonQueue } from '../../src/queue/jsonQueue';
import type { DestinationMessage } from '../../src/queue/leadMessage';
import { SmtpTransport } from '../../src/notify/transports/smtp';
import type { Mail as OutgoingMail, MailTransport } from '../../src/notify/transports/transport';
import { AttentionIndex } from '../../src/deliver/attentionIndex';
import { DeliveryLog } from '../../src/deliver/deliveryLog';
import { LeadsTable, rowKeysFor } from '../../src/store/leadsTable';
import { json, startTestServer, type TestServer } from '../helpers/httpServer';
import { parseMail, type ParsedMail } from '../helpers/mime';
import { freePort, postLead, startApp, type RunningApp } from '../helpers/processes';
import { drainQueue, eventually } from '../helpers/queues';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp';

const minutes = (n: number) => n * 60_000;
const ops = 'ops@contoso.example';
/** A schedule that does not come round during a test: the tests run the timers through the admin API. */
const never = '0 0 0 1 1 *';

/** The settings that send the app's mail through the test's SMTP server. */
function mailThrough(smtp: TestSmtpServer): Record<string, string> {
    return { EMAIL_TRANSPORT: 'smtp', SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_SECURE: 'false', NOTIFY_FROM: 'leads@contoso.example' };
}

interface Mail extends ParsedMail {
    raw: string;
    to: string[];
    messageId: string;
}

function read(mail: ReceivedMail): Mail {
    const parsed = parseMail(mail.raw);
    return { ...parsed, raw: mail.raw, to: mail.to, messageId: parsed.headers.get('message-id') ?? '' };
}

function customer(name: string, extra: Record<string, unknown> = {}) {
    return {
        UserDetails: { FirstName: 'Ada', LastName: name, Email: `ada.${name.toLowerCase()}@lovelace.example`, Phone: '+44 20 7946 0958', Company: `${name} Engines`, Country: 'GB' },
        LeadSource: 'AzureMarketplace-INS|contoso.analytics',
        OfferTitle: 'Contoso Analytics',
        ...extra,
    };
}

/** Nothing of the customer's: name, e-mail, phone, company. */
function assertNoCustomerDetails(text: string, name: string): void {
    for (const detail of [name, `ada.${name.toLowerCase()}`, '7946 0958', `${name} Engines`]) assert.equal(text.includes(detail), false, `"${detail}" must not appear`);
}

describe('alerts to the operator, through the app on the local host', () => {
    let azurite: Azurite;
    let smtp: TestSmtpServer;
    let webhook: TestServer;
    let app: RunningApp;

    before(async () => {
        [azurite, smtp] = await Promise.all([startAzurite(), startSmtpServer()]);
        webhook = await startTestServer((request, res) => {
            const { customer: who } = JSON.parse(request.body) as { customer: { lastName: string } };
            if (who.lastName.startsWith('Failing')) return json(res, 503, { error: 'down' });
            if (who.lastName.startsWith('Refused')) return json(res, 400, { error: 'bad field' });
            return json(res, 200, { ok: true });
        });
        const env = {
            AzureWebJobsStorage: azurite.connectionString,
            LEAD_DESTINATIONS: 'table, webhook',
            WEBHOOK_URL: `${webhook.url}/hook`,
            DELIVERY_RETRY_SECONDS: '3',
            DELIVERY_MAX_ATTEMPTS: '10',
            DELIVERY_TIMEOUT_SECONDS: '1',
            ...mailThrough(smtp),
            NOTIFY_TO: 'sales@contoso.example',
            NOTIFY_SCHEDULE: never,
            ALERT_TO: ops,
            ALERT_SCHEDULE: never,
            ALERT_INTERVAL_MINUTES: '0.25',
            ALERT_FAILING_MINUTES: '0.02',
            CONSOLE_URL: 'https://leads.contoso.example/api/console',
        };
        app = await startApp({ env, port: await freePort() });
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await app?.stop();
        await webhook?.close();
        await smtp?.close();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    const alertMails = (subject: RegExp) =>
        smtp.mails
            .filter((mail) => mail.to.includes(ops))
            .map(read)
            .filter((mail) => subject.test(mail.subject));

    /** Runs a timer function now through the admin API, and waits until that run has finished. */
    async function fire(name: string): Promise<void> {
        const done = () => app.output().split(`Executed 'Functions.${name}'`).length - 1;
        const before = done();
        const response = await fetch(`${app.url}/admin/functions/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        assert.equal(response.status, 202);
        await eventually(() => (done() > before ? true : undefined), 15_000, `the ${name} run`);
    }

    /** Waits until the alerts table holds an event of this kind about this lead. */
    async function eventAbout(kind: string, leadId: string): Promise<void> {
        const table = TableClient.fromConnectionString(azurite.connectionString, 'LeadAlerts', { allowInsecureConnection: true });
        const found = async () => {
            const rows = table.listEntities({ queryOptions: { filter: `PartitionKey eq '${kind}' and LeadId eq '${leadId}'` } });
            return (await rows.next()).done === true ? undefined : true;
        };
        await eventually(() => found().catch(() => undefined), 20_000, `the ${kind} event of lead ${leadId}`);
    }

    it('mails a lead moved to the poison queue with its id, offer, destination and reason, and none of the customer details', async () => {
        const id = await postLead(app.url, customer('Refused'));
        await eventAbout('poisoned', id);
        const poisoned = await eventually(
            async () => {
                const messages = await drainQueue(azurite.connectionString, 'leads-poison');
                return messages.find((m) => (m.value as { id?: string }).id === id);
            },
            10_000,
            'the lead in the poison queue',
        );
        assert.equal((poisoned.value as { delivery: { destination: string } }).delivery.destination, 'webhook');
        await fire('sendAlerts');
        const [mail, ...others] = alertMails(/poison queue/);
        assert.ok(mail);
        assert.equal(others.length, 0);
        assert.deepEqual(mail.to, [ops]);
        assert.match(mail.text, new RegExp(`Lead id: ${id}`));
        assert.match(mail.text, /Offer: contoso\.analytics/);
        assert.match(mail.text, /Destination: webhook/);
        assert.match(mail.text, /Reason: a permanent failure: .*400/);
        assertNoCustomerDetails(`${mail.raw}\n${mail.text}\n${mail.html}`, 'Refused');
        assertNoCustomerDetails(app.output(), 'Refused');
    });

    it('mails a lead the digest set aside because the mail server refused every digest with it', async () => {
        smtp.refuseMatching(/Spam Engines/);
        try {
            const id = await postLead(app.url, customer('Spam'));
            await eventually(() => (app.output().includes(`Lead ${id}: table delivered`) ? true : undefined), 10_000, 'the lead in the table');
            await fire('notifyContacts');
            await eventAbout('set-aside', id);
            await fire('sendAlerts');
        } finally {
            smtp.refuseMatching(undefined);
        }
        const [mail, ...others] = alertMails(/set aside/);
        assert.ok(mail, 'the alert mail itself holds no company, so the server did not refuse it');
        assert.equal(others.length, 0);
        assert.match(mail.text, /Reason: The SMTP server refused the message \(554 5\.7\.1\)/);
        assertNoCustomerDetails(`${mail.raw}\n${mail.text}`, 'Spam');
        assertNoCustomerDetails(app.output(), 'Spam');
    });

    it('mails a destination that keeps failing, naming the lead and the destination, at most once an interval; the next lead is in the next mail', async () => {
        const first = await postLead(app.url, customer('Failing1'));
        await eventAbout('failing', first);
        await fire('sendAlerts');
        const [mail, ...others] = alertMails(/failing/);
        assert.ok(mail, 'a failing alert was mailed');
        assert.equal(others.length, 0);
        assert.match(mail.subject, /1 delivery has been failing/);
        assert.match(mail.text, new RegExp(`Lead id: ${first}`));
        assert.match(mail.text, /Destination: webhook/);
        assert.match(mail.text, /503/);
        assert.match(mail.text, /Console: https:\/\/leads\.contoso\.example\/api\/console/);
        assert.match(mail.html, /href="https:\/\/leads\.contoso\.example\/api\/console"/);
        // Each lead links to its own page in the console.
        assert.match(mail.text, new RegExp(`Lead id: ${first}[^]*Console: https://leads\\.contoso\\.example/api/console/view/${first}\r?\n`));
        assert.match(mail.html, new RegExp(`<a href="https://leads\\.contoso\\.example/api/console/view/${first}">Open the lead</a>`));
        assertNoCustomerDetails(mail.raw, 'Failing1');
        const sentAt = Date.now();

        const second = await postLead(app.url, customer('Failing2'));
        await eventAbout('failing', second);
        await fire('sendAlerts');
        assert.equal(alertMails(/failing/).length, 1, 'no second mail within the interval');

        await new Promise((resolve) => setTimeout(resolve, Math.max(0, sentAt + minutes(0.25) - Date.now()) + 200));
        await fire('sendAlerts');
        const mails = alertMails(/failing/);
        assert.equal(mails.length, 2);
        assert.match(mails[1]?.text ?? '', new RegExp(`Lead id: ${second}`));
        assert.doesNotMatch(mails[1]?.text ?? '', new RegExp(first), 'the first lead is not mailed again');
        assert.notEqual(mails[1]?.messageId, mail.messageId);
    });
});

describe('alert runs against Azurite and a real SMTP server', () => {
    let azurite: Azurite;
    let smtp: TestSmtpServer;
    let count = 0;
    const quiet = () => new InvocationContext({ logHandler: () => undefined });

    before(async () => {
        [azurite, smtp] = await Promise.all([startAzurite(), startSmtpServer()]);
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await smtp?.close();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    /** Alert services on tables of their own, as a freshly started app would build them. */
    async function scenario(extra: Record<string, string> = {}) {
        const n = ++count;
        const settings = readSettings({
            AzureWebJobsStorage: azurite.connectionString,
            ALERTS_TABLE: `Alerts${n}`,
            LEADS_TABLE: `Leads${n}`,
            ALERT_TO: ops,
            ...mailThrough(smtp),
            ...extra,
        });
        const services = async (): Promise<AlertServices> => ({
            settings,
            store: await AlertStore.connect(azurite.connectionString, settings.ALERTS_TABLE),
            leads: await LeadArrivals.connect(azurite.connectionString, settings.LEADS_TABLE),
            transport: new SmtpTransport(settings),
            consoleUrl: consoleUrl(settings, { PORT: '7071' }),
        });
        const svc = await services();
        const mailsBefore = smtp.mails.length;
        let leads = 0;
        return {
            svc,
            restart: services,
            run: (now = new Date(), using = svc) => runAlerts(using, quiet(), now),
            mails: () => smtp.mails.slice(mailsBefore).map(read),
            poison: (id = String(++leads).padStart(2, '0').padEnd(32, 'a')) => svc.store.record(poisonedEvent({ id, offer: 'contoso.analytics' }, 'hubspot', 1, 'The HubSpot API answered 401.')).then(() => id),
            async storeLead(at: Date, receiptPrefix = 'r'): Promise<void> {
                const table = await LeadsTable.connect(azurite.connectionString, settings.LEADS_TABLE);
                const lead = parseLead(JSON.stringify(customer(`Quiet${++leads}`)), 'json', { receivedAt: at, receiptId: `${receiptPrefix}${leads}` });
                await table.insert(lead, rowKeysFor(lead.id, at));
            },
        };
    }

    it('mails "no lead for ALERT_QUIET_HOURS" once per quiet spell, and again after a lead ends it and another spell begins', async () => {
        const s = await scenario({ ALERT_QUIET_HOURS: '1', ALERT_INTERVAL_MINUTES: '30' });
        const start = new Date();
        assert.deepEqual(await s.run(start), { mails: 0, events: 0 }, 'the first run starts watching');
        await s.storeLead(start);
        const at = (offset: number) => new Date(start.getTime() + minutes(offset));
        assert.equal((await s.run(at(30))).mails, 0, 'a lead came within the hour');
        assert.equal((await s.run(at(61))).mails, 1, 'an hour without a lead');
        const [mail] = s.mails();
        assert.match(mail?.subject ?? '', /No lead has arrived for 1 hour/);
        assert.match(mail?.text ?? '', /Console: http:\/\/localhost:7071\/api\/console/);
        for (const later of [62, 95, 200, 400]) assert.equal((await s.run(at(later))).mails, 0, `the same spell at ${later} minutes`);

        await s.storeLead(at(405), importReceiptPrefix);
        assert.equal((await s.run(at(440))).mails, 0);
        assert.equal((await s.run(at(470))).mails, 0, 'an imported lead is no arrival: the spell goes on, and no new one begins an hour after it');
        await s.storeLead(at(480));
        assert.equal((await s.run(at(510))).mails, 0, 'a lead came');
        assert.equal((await s.run(at(545))).mails, 1, 'a new spell');
        assert.equal((await s.run(at(700))).mails, 0);
        assert.equal(s.mails().length, 2);
    });

    it('lets only one of two runs at once (two hosts on one storage) send, and each event is mailed once', async () => {
        const s = await scenario();
        const ids = [await s.poison(), await s.poison(), await s.poison()];
        const other = await s.restart();
        const reports = await Promise.all([s.run(), s.run(new Date(), other)]);
        assert.deepEqual(reports.map((r) => r.mails).sort(), [0, 1]);
        const [mail, ...others] = s.mails();
        assert.equal(others.length, 0);
        for (const id of ids) assert.match(mail?.text ?? '', new RegExp(`Lead id: ${id}`));
        assert.match(mail?.subject ?? '', /3 leads were moved to the poison queue/);
        assert.equal((await s.run(new Date(Date.now() + minutes(31)))).mails, 0, 'nothing is mailed twice');
    });

    it('sends a mail the server refused (451) on the next run, written down before, with its Message-ID, and loses nothing', async () => {
        const s = await scenario();
        const id = await s.poison();
        smtp.refuseNext(1);
        await assert.rejects(s.run(), /451/);
        assert.equal(s.mails().length, 0);
        const { pending } = await s.svc.store.read('poisoned');
        assert.ok(pending, 'the mail is written down');
        assert.deepEqual((await s.run()).mails, 1);
        const [mail] = s.mails();
        assert.ok(mail);
        assert.equal(mail.messageId, `<${pending.id}@marketplace-leads>`);
        assert.match(mail.text, new RegExp(`Lead id: ${id}`));
        assert.equal((await s.run(new Date(Date.now() + minutes(31)))).mails, 0);
    });

    it('keeps a mail the server refuses for good (5xx) written down with its events unsent, one send a run, and sends it with the same Message-ID once the server takes mail', async () => {
        const s = await scenario();
        const poisoned = await s.poison();
        await s.svc.store.record(failingEvent({ id: 'f'.repeat(32), offer: 'contoso.analytics' }, 'webhook', new Date().toISOString(), 'The webhook answered 503.'));
        const before = smtp.received.length;
        smtp.refuseEvery({ code: 550, text: '5.7.60 SMTP; Client does not have permissions to send as this sender' });
        try {
            await assert.rejects(s.run(), /550 5\.7\.60/);
            await assert.rejects(s.run(), /550 5\.7\.60/);
        } finally {
            smtp.refuseEvery(undefined);
        }
        assert.equal(smtp.received.length - before, 2, 'one send a run: the other kind waits rather than be refused alike');
        const { pending, unsent, state } = await s.svc.store.read('poisoned');
        assert.ok(pending, 'the mail stays written down');
        assert.deepEqual(
            unsent.map((e) => e.leadId),
            [poisoned],
            'its event is not marked sent',
        );
        assert.ok(state?.FailingSince, 'the failure is kept for the console');
        assert.equal((await s.run()).mails, 2);
        const [first, second, ...others] = s.mails();
        assert.equal(others.length, 0);
        assert.equal(first?.messageId, `<${pending.id}@marketplace-leads>`, 'the same mail, same Message-ID');
        assert.match(first.text, new RegExp(`Lead id: ${poisoned}`));
        assert.match(second?.subject ?? '', /failing/);
        assert.equal((await s.svc.store.read('poisoned')).state?.FailingSince, undefined, 'a mail sent ends the failure');
    });

    it('keeps a mail refused for what it holds (554 5.7.1) for the next run, and still sends the other kinds', async () => {
        const s = await scenario();
        const poisoned = await s.poison();
        await s.svc.store.record(failingEvent({ id: 'e'.repeat(32), offer: 'contoso.analytics' }, 'webhook', new Date().toISOString(), 'The webhook answered 503.'));
        smtp.refuseMatching(/moved to the poison queue/);
        try {
            await assert.rejects(s.run(), /554 5\.7\.1/);
        } finally {
            smtp.refuseMatching(undefined);
        }
        assert.deepEqual(
            s.mails().map((m) => /failing/.test(m.subject)),
            [true],
            'the failing alert went',
        );
        assert.equal((await s.svc.store.read('poisoned')).unsent.length, 1);
        assert.equal((await s.run()).mails, 1);
        assert.match(s.mails()[1]?.text ?? '', new RegExp(`Lead id: ${poisoned}`));
    });

    it('after a crash between the send and its record, sends the same mail with the same Message-ID, then what came since in a new one', async () => {
        const s = await scenario();
        const first = await s.poison();
        // The server accepts the mail; the run dies before it can record that (as if the instance stopped).
        const dying = Object.assign(Object.create(s.svc.transport) as MailTransport, { send: (mail: OutgoingMail) => s.svc.transport.send(mail).then(() => Promise.reject(new Error('killed'))) });
        await assert.rejects(s.run(new Date(), { ...s.svc, transport: dying }), /killed/);
        const later = await s.poison();
        assert.equal((await s.run(new Date(), await s.restart())).mails, 1);
        assert.equal((await s.run(new Date(Date.now() + minutes(31)))).mails, 1);
        const [sent, again, next] = s.mails();
        assert.equal(again?.messageId, sent?.messageId, 'the repeat is the same message');
        assert.equal(again?.text, sent?.text);
        assert.match(sent?.text ?? '', new RegExp(first));
        assert.doesNotMatch(sent?.text ?? '', new RegExp(later));
        assert.notEqual(next?.messageId, sent?.messageId);
        assert.match(next?.text ?? '', new RegExp(later));
        assert.doesNotMatch(next?.text ?? '', new RegExp(first), 'no event under two Message-IDs');
    });

    it('still moves a lead to the poison queue when the alerts table cannot be reached, and logs that without the customer', async () => {
        const refusing = await startTestServer((_request, res) => json(res, 400, { error: 'unknown field' }));
        try {
            const settings = readSettings({ AzureWebJobsStorage: azurite.connectionString, LEAD_DESTINATIONS: 'webhook', WEBHOOK_URL: `${refusing.url}/hook`, LEADS_QUEUE: 'alertsdown', DELIVERY_TIMEOUT_SECONDS: '1' });
            const down = azurite.connectionString.replace(/TableEndpoint=http:\/\/127\.0\.0\.1:\d+/, `TableEndpoint=http://127.0.0.1:${await freePort()}`);
            const poison = await JsonQueue.connect(azurite.connectionString, 'alertsdown-poison');
            const svc: DeliveryServices = {
                settings,
                log: await DeliveryLog.connect(azurite.connectionString, 'AlertsDownDeliveries'),
                attention: await AttentionIndex.connect(azurite.connectionString, 'AlertsDownDeliveries'),
                poison,
                alerts: await AlertStore.connect(down, 'LeadAlerts'),
                queueFor: () => JsonQueue.connect(azurite.connectionString, 'alertsdown-webhook'),
            };
            const lead = parseLead(JSON.stringify(customer('Unreachable')), 'json', { receivedAt: new Date(), receiptId: 'r1' });
            const message: DestinationMessage = { ...lead, delivery: { destination: 'webhook', ticket: 1, attempt: 1 } };
            const lines: string[] = [];
            const context = new InvocationContext({ logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')) });
            const started = Date.now();
            assert.equal(await attemptDelivery(svc, message, context), 'poisoned');
            assert.ok(Date.now() - started < 8_000, 'the alert write gives up within seconds');
            const [poisoned, ...others] = await drainQueue(azurite.connectionString, 'alertsdown-poison');
            assert.equal(others.length, 0);
            assert.equal((poisoned?.value as { id: string }).id, lead.id);
            assert.ok(
                lines.some((line) => line.includes(`Could not record the poisoned alert for lead ${lead.id} at webhook`)),
                lines.join('\n'),
            );
            assertNoCustomerDetails(lines.join('\n'), 'Unreachable');
        } finally {
            await refusing.close();
        }
    });
});
