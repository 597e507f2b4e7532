import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import { acsMaxRecipients, alertRecipients, ConfigurationError, mailSettingsProblems, settings, type Settings } from '../config/settings';
import { mailLeaseMs, refusesMessage, sendFitsLease } from '../notify/notifyContacts';
import { transportFor } from '../notify/transports';
import { failureReason, type MailTransport, type SendReport } from '../notify/transports/transport';
import { lazy } from '../runtime/lazy';
import { alertDue } from './alertDue';
import { alertKinds, quietEvent, type AlertKind } from './alertEvent';
import { AlertStore, maxEventsPerMail, type AlertClaim, type AlertKindState, type PendingAlert } from './alertStore';
import { composeAlert } from './composeAlert';
import { consoleUrl } from './consoleUrl';
import { LeadArrivals } from './leadArrivals';

export interface AlertServices {
    settings: Settings;
    store: AlertStore;
    leads: LeadArrivals;
    transport: MailTransport;
    consoleUrl: string;
}

export const alertServices = lazy(async (): Promise<AlertServices> => {
    const s = settings();
    const recipients = alertRecipients(s);
    const tooMany = s.EMAIL_TRANSPORT === 'acs' && recipients.length > acsMaxRecipients ? [`ALERT_TO has ${recipients.length} addresses: Azure Communication Services takes at most ${acsMaxRecipients} in one mail`] : [];
    const problems = [...mailSettingsProblems(s), ...tooMany];
    if (problems.length > 0) throw new ConfigurationError(problems);
    const [store, leads] = await Promise.all([AlertStore.connect(s.storage, s.ALERTS_TABLE), LeadArrivals.connect(s.storage, s.LEADS_TABLE)]);
    return { settings: s, store, leads, transport: await transportFor(s), consoleUrl: consoleUrl(s, process.env) };
});

export interface AlertRunReport {
    mails: number;
    events: number;
    skipped?: 'no recipients';
}

interface Run {
    svc: AlertServices;
    context: InvocationContext;
    to: readonly string[];
    /** Every kind's lease ends with the run's: no send starts that the run's lease cannot outlast. */
    leaseUntil: string;
    sends: number;
    /** A send failed, and not for what its mail held: the other kinds' mails wait for the next run rather than fail alike. */
    halted: boolean;
    report: AlertRunReport;
}

/** Records the quiet spell's event when no lead has come for ALERT_QUIET_HOURS: once per spell, however many runs see it. */
async function watchQuiet(run: Run, read: AlertKindState, now: Date): Promise<void> {
    const { settings: s, store, leads } = run.svc;
    const hours = s.ALERT_QUIET_HOURS;
    if (hours === undefined) return;
    if (!read.watch) return store.startWatch(now);
    const since = new Date(now.getTime() - hours * 3_600_000);
    if (Date.parse(read.watch.WatchingSince) > since.getTime() || (await leads.anySince(since))) return;
    const { QuietSince: quietSince, WatchingSince: watchingSince } = read.watch;
    // This spell's event is written already unless a lead came after the spell it was about.
    if (quietSince && !(await leads.anySince(new Date(quietSince)))) return;
    const newest = await leads.newestBefore(since, quietSince ? new Date(quietSince) : new Date(since.getTime() - 31 * 86_400_000));
    const event = quietEvent(newest ? { newestRowKey: newest } : { watchingSince: quietSince ?? watchingSince }, hours, now);
    await store.record(event);
    await store.markQuietSince(since.toISOString());
    if (!read.unsent.some((e) => e.key === event.key)) read.unsent.push(event);
    run.context.warn(`No lead has arrived for more than ${hours} hour(s): an alert is due.`);
}

/** Composes the mail about the oldest unsent events and writes it down before anything is sent. */
async function writeDown(run: Run, claim: AlertClaim, kind: AlertKind, read: AlertKindState): Promise<PendingAlert> {
    const { settings: s, store } = run.svc;
    const events = read.unsent.slice(0, maxEventsPerMail);
    const content = composeAlert(kind, events, { consoleUrl: run.svc.consoleUrl, more: read.unsent.length - events.length, failingMinutes: s.ALERT_FAILING_MINUTES, quietHours: s.ALERT_QUIET_HOURS });
    const mail: PendingAlert = { id: randomUUID(), kind, keys: events.map((event) => event.key), to: [...run.to], ...content };
    await store.savePending(claim, mail);
    return mail;
}

/**
 * Sends the mail written down, same id (so same Message-ID and ACS operation id) however often it
 * is sent, then marks its events sent and clears it in one transaction. A mail that did not go,
 * refused for good included, stays written down with its events unsent and goes again next run;
 * the failure is kept for the console until then.
 */
async function sendWrittenDown(run: Run, claim: AlertClaim, mail: PendingAlert, failingSince: string | undefined, now: Date): Promise<void> {
    const { settings: s, store, transport } = run.svc;
    run.sends++;
    let refused: SendReport['refused'];
    try {
        ({ refused } = await transport.send({ from: s.NOTIFY_FROM, to: mail.to, id: mail.id, subject: mail.subject, text: mail.text, html: mail.html }));
    } catch (error) {
        run.halted ||= !refusesMessage(error);
        await store.fail(claim, { since: failingSince ?? now.toISOString(), reason: failureReason(error) });
        throw error;
    }
    await store.commit(claim, mail);
    for (const { address, reason } of refused) run.context.error(`The mail server refused the recipient ${address} (${reason}) for the ${mail.kind} alert mail ${mail.id}.`);
    run.report.mails++;
    run.report.events += mail.keys.length;
    run.context.log(`Sent the ${mail.kind} alert mail ${mail.id} about ${mail.keys.length} event(s) to ${mail.to.length - refused.length} of ${mail.to.length} recipient(s) through ${transport.name}.`);
}

async function sendKind(run: Run, kind: AlertKind, now: Date): Promise<void> {
    const { settings: s, store } = run.svc;
    const read = await store.read(kind);
    if (kind === 'quiet') await watchQuiet(run, read, now);
    if (run.halted) return;
    if (!alertDue({ lastSentAt: read.state?.LastSentAt || undefined, pending: read.pending !== undefined, unsent: read.unsent.length }, s.ALERT_INTERVAL_MINUTES, now)) return;
    const claim = await store.claim(kind, read.state, run.leaseUntil, now);
    if (!claim) {
        run.context.log(`Another run is sending the ${kind} alert mail; this one leaves it.`);
        return;
    }
    let done = false;
    try {
        await sendWrittenDown(run, claim, read.pending ?? (await writeDown(run, claim, kind, read)), read.state?.FailingSince, now);
        done = true;
    } finally {
        if (!done) await store.release(claim);
    }
}

/**
 * Mails the operator what needs a person, one mail per kind at most every ALERT_INTERVAL_MINUTES,
 * each listing every event of its kind since the last: never one lost, never one mailed twice
 * (but after a crash between a send and its record, when the same mail goes again, same Message-ID).
 */
export async function sendAlerts(context: InvocationContext): Promise<AlertRunReport> {
    return runAlerts(await alertServices(), context);
}

/** One alert run with the given services. */
export async function runAlerts(svc: AlertServices, context: InvocationContext, now = new Date()): Promise<AlertRunReport> {
    for (const problem of svc.settings.fallbacks) context.error(`An alert setting is wrong: ${problem}.`);
    const to = alertRecipients(svc.settings);
    if (to.length === 0) {
        context.log('Neither ALERT_TO nor NOTIFY_TO is set: no alert is mailed, and the events wait until one is.');
        return { mails: 0, events: 0, skipped: 'no recipients' };
    }
    const run: Run = { svc, context, to, leaseUntil: new Date(now.getTime() + mailLeaseMs).toISOString(), sends: 0, halted: false, report: { mails: 0, events: 0 } };
    let failed: Error | undefined;
    for (const kind of alertKinds) {
        if (!sendFitsLease(svc.transport, run.leaseUntil, run.sends)) break;
        try {
            await sendKind(run, kind, now);
        } catch (error) {
            // One kind's failure does not hold up the others'; the run still fails, so the host logs it.
            failed ??= error instanceof Error ? error : new Error(`The ${kind} alert run failed.`, { cause: error });
            context.error(`The ${kind} alert mail was not sent, and is tried again next run: ${error instanceof Error ? error.message : 'an error'}`);
        }
    }
    if (failed) throw failed;
    return run.report;
}
