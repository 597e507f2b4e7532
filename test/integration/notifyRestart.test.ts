import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { azuriteConnectionString, defaultAzuritePorts } from '../../src/host/azurite';
import { statusOf } from '../../src/storage/clients';
import { leadIdsIn, parseMail } from '../helpers/mime';
import { freePort, postLead, startApp, tempDir, type RunningApp } from '../helpers/processes';
import { eventually } from '../helpers/queues';
import { startSmtpServer, type MessagePoint } from '../helpers/smtp';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A schedule that does not come round during the test: it runs the digest through the admin API. */
const never = '0 0 0 1 1 *';
/** Azurite writes its data to disk this often (LokiJS autosave); a restart finds what it wrote. */
const azuriteSaveMs = 5_000;

interface Stop {
    signal: NodeJS.Signals;
    at: MessagePoint;
    /** After the server's answer, this long before the signal: the progress writes are under way. */
    afterMs?: number;
    /** The signal goes to the app's whole process group, as Ctrl-C in a terminal does. */
    group?: boolean;
}

const stops: Stop[] = [
    { signal: 'SIGKILL', at: 'before answer' },
    { signal: 'SIGKILL', at: 'after answer' },
    { signal: 'SIGKILL', at: 'after answer', afterMs: 15 },
    { signal: 'SIGTERM', at: 'after answer' },
    { signal: 'SIGINT', at: 'after answer', group: true },
];

function lead(n: number) {
    return {
        UserDetails: { FirstName: 'Jane', LastName: `Restart${n}`, Email: `jane.restart${n}@contoso.com`, Company: 'Contoso' },
        LeadSource: 'AzurePortal-Create|contoso.analytics',
        OfferTitle: 'Contoso Analytics',
    };
}

/*
 * `npm start` as a person runs it: no storage setting, so the app starts Azurite with its data on
 * disk, and what a restart finds is what Azurite saved. The app is stopped at the moment the mail
 * server takes a digest, in several ways, and started again.
 */
describe('npm start stopped right after the mail server took a digest', () => {
    it('mails every lead under one Message-ID after the restart, whatever the signal and the moment', async () => {
        const smtp = await startSmtpServer();
        const options = {
            env: {
                AzureWebJobsStorage: '',
                EMAIL_TRANSPORT: 'smtp',
                SMTP_HOST: '127.0.0.1',
                SMTP_PORT: String(smtp.port),
                SMTP_SECURE: 'false',
                NOTIFY_TO: 'ops@contoso.example',
                NOTIFY_FROM: 'leads@contoso.example',
                NOTIFY_SCHEDULE: never,
                ALERT_SCHEDULE: never,
            },
            args: ['--settings', join(tempDir('settings'), 'local.settings.json'), '--azurite-location', tempDir('azurite')],
            port: await freePort(),
            ownGroup: true,
        };
        const storage = azuriteConnectionString(defaultAzuritePorts);
        const progress = TableClient.fromConnectionString(storage, 'LeadNotifications', { allowInsecureConnection: true });
        const leadsTable = TableClient.fromConnectionString(storage, 'MarketplaceLeads', { allowInsecureConnection: true });
        const posted: string[] = [];
        let app: RunningApp | undefined = await startApp(options);

        /** Runs the digest now through the admin API and waits until that run has finished. */
        const runDigest = async (running: RunningApp) => {
            const done = () => running.output().split("Executed 'Functions.notifyContacts'").length - 1;
            const before = done();
            const response = await fetch(`${running.url}/admin/functions/notifyContacts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
            assert.equal(response.status, 202);
            await eventually(() => (done() > before ? true : undefined), 20_000, 'the digest run');
        };
        try {
            for (const [round, stop] of stops.entries()) {
                const what = `${stop.signal}${stop.group ? ' to the group' : ''} ${stop.at}${stop.afterMs ? ` + ${stop.afterMs} ms` : ''}`;
                const running: RunningApp = app;
                const ids = [await postLead(running.url, lead(2 * round)), await postLead(running.url, lead(2 * round + 1))];
                posted.push(...ids);
                for (const id of ids) await eventually(() => (running.output().includes(`Lead ${id}: table delivered`) ? true : undefined), 10_000, `lead ${id} in the table`);
                // The leads are on disk now; what the digest run writes next is not yet.
                await sleep(azuriteSaveMs + 1_000);
                const exited = once(running.child, 'exit');
                smtp.onNextMessage(stop.at, () => {
                    const signal = () => (stop.group ? process.kill(-(running.child.pid ?? 0), stop.signal) : running.child.kill(stop.signal));
                    if (stop.afterMs) setTimeout(signal, stop.afterMs);
                    else signal();
                });
                const mailsBefore = smtp.mails.length;
                await fetch(`${running.url}/admin/functions/notifyContacts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
                await exited;
                app = undefined;
                assert.equal(smtp.mails.length, mailsBefore + 1, `${what}: the server took the digest`);

                app = await startApp(options);
                // A run stopped without ending its lease keeps it for 18 minutes: it ends here as that time would.
                await progress.updateEntity({ partitionKey: 'progress', rowKey: 'MarketplaceLeads', LeaseUntil: '' }, 'Merge').catch((error: unknown) => {
                    if (statusOf(error) !== 404) throw error;
                });
                await runDigest(app);

                const stored = new Set<string>();
                for await (const row of leadsTable.listEntities<{ LeadId: string }>()) stored.add(row.LeadId);
                assert.deepEqual(
                    posted.filter((id) => !stored.has(id)),
                    [],
                    `${what}: every lead is still in the table after the restart`,
                );
                const idsOf = new Map<string, Set<string>>();
                for (const mail of smtp.mails.map((m) => parseMail(m.raw))) {
                    for (const id of leadIdsIn(mail)) idsOf.set(id, (idsOf.get(id) ?? new Set()).add(mail.headers.get('message-id') ?? ''));
                }
                for (const id of posted) assert.equal(idsOf.get(id)?.size, 1, `${what}: lead ${id} is mailed under one Message-ID (${[...(idsOf.get(id) ?? [])].join(', ')})`);
                if (stop.signal !== 'SIGKILL') {
                    const copies = smtp.mails.filter((m) => leadIdsIn(parseMail(m.raw)).includes(ids[0] ?? '')).length;
                    assert.equal(copies, 1, `${what}: a stop that lets the run finish sends the digest once`);
                }
            }
        } finally {
            await app?.stop('SIGINT');
            await smtp.close();
        }
    });
});
