import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import { mailDownEvent, setAsideEvent } from '../alert/alertEvent';
import { AlertStore } from '../alert/alertStore';
import { recordAlert, type AlertRecorder } from '../alert/recordAlert';
import { ConfigurationError, mailSettingsProblems, settings, type Settings } from '../config/settings';
import { lazy } from '../runtime/lazy';
import { NotifyProgressStore, type Claim, type PendingDigest, type SetAside } from './notifyProgress';
import { advance, positionAt, remember } from './cursor';
import { composeDigest } from './digest';
import { consoleUrl } from '../alert/consoleUrl';
import { AppLeadsTableSource, MarketplaceTableSource, type Candidate, type NewLeadsSource } from './sources';
import { transportFor } from './transports';
import { failureReason, MailRefusedError, type Mail, type MailTransport, type SendReport } from './transports/transport';

/** Bounds one run; the transport may bound it further (ACS's rate limits). What is left waits for the next run. */
const maxDigestsPerRun = 10;
/**
 * Longer than the slowest send (SMTP: 12 minutes in all, 10 of them for the reply to the end of the
 * message) with room to spare, and within host.json's functionTimeout (20 minutes).
 */
export const mailLeaseMs = 18 * 60_000;
/** Lease kept beyond a send's own time-out for the writes after it. */
const saveMarginMs = 60_000;
/** A recipient the mail server refused is sent the same digest again on this many runs, then set aside. */
export const maxRecipientRetries = 3;

export interface NotifyServices {
    settings: Settings;
    source: NewLeadsSource;
    progress: NotifyProgressStore;
    transport: MailTransport;
    /** Where what is set aside is written for the operator's alert mail. */
    alerts?: AlertRecorder;
    /** The console's address, for a link to each lead's page: only when the leads come from the app's own table, which the console shows. */
    consoleUrl?: string;
}

export const notifyServices = lazy(async (): Promise<NotifyServices> => {
    const s = settings();
    const problems = mailSettingsProblems(s);
    if (problems.length > 0) throw new ConfigurationError(problems);
    const source = s.NOTIFY_SOURCE_TABLE ? await MarketplaceTableSource.connect(s.NOTIFY_SOURCE_CONNECTION ?? s.storage, s.NOTIFY_SOURCE_TABLE) : await AppLeadsTableSource.connect(s.storage, s.LEADS_TABLE);
    const progress = await NotifyProgressStore.connect(s.storage, s.NOTIFY_STATE_TABLE, source.name);
    const link = s.NOTIFY_SOURCE_TABLE ? {} : { consoleUrl: consoleUrl(s, process.env) };
    return { settings: s, source, progress, transport: await transportFor(s), alerts: await AlertStore.connect(s.storage, s.ALERTS_TABLE), ...link };
});

export interface RunReport {
    digests: number;
    leads: number;
    /** Leads the mail server refused in every digest, set aside for a person to see. */
    setAside?: number;
    /** Digests sent again to recipients the mail server had refused. */
    resent?: number;
    skipped?: 'no recipients' | 'another run holds the lease';
}

interface Run {
    svc: NotifyServices;
    claim: Claim;
    context: InvocationContext;
    report: RunReport;
    sends: number;
    /** The mail server took a digest in this run: it takes mail, so a part it refuses now is refused for what it holds. */
    accepted: boolean;
}

/**
 * Every part of a digest was refused while the mail server took no other mail: taken for the
 * server's doing (or its settings'), so no lead is set aside and the leads wait.
 */
export class MailDownError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'MailDownError';
    }
}

/** No send starts unless its whole time-out fits in the lease left: a send that outlasted the lease could race the next run's. */
export function sendFitsLease(transport: MailTransport, leaseUntil: string, sends: number): boolean {
    return sends < transport.maxSendsPerRun && Date.parse(leaseUntil) - Date.now() >= transport.maxSendMs + saveMarginMs;
}

function hasBudget({ svc, claim, report, sends }: Run): boolean {
    return report.digests < maxDigestsPerRun && sendFitsLease(svc.transport, claim.leaseUntil, sends);
}

/** A permanent refusal of the message itself: something in it (a lead, an alert's text) is refused, and sending it again will not help. */
export function refusesMessage(error: unknown): error is MailRefusedError {
    return error instanceof MailRefusedError && error.of === 'message' && error.permanent;
}

/**
 * Whether a refusal is taken as one of what the digest holds, to be split to find the lead: a
 * refusal of its content, or any refusal of a message once the server has taken another in this
 * run (then its codes misled: the sender and the account are fine).
 */
function refusedForContent(run: Run, error: unknown): error is MailRefusedError {
    return refusesMessage(error) || (run.accepted && error instanceof MailRefusedError && error.of === 'sending');
}

/**
 * Records that digests cannot go, for a reason that is not a lead's: in the notify state, where the
 * console's health strip shows it until a digest is sent, and as an alert event once that is for
 * good or has lasted ALERT_FAILING_MINUTES (one event per outage: its mail goes when the server
 * takes mail again, if not before).
 */
async function markDown(run: Run, error: unknown): Promise<void> {
    const { claim, svc, context } = run;
    const now = new Date();
    const down = { since: claim.mailDown?.since ?? now.toISOString(), reason: failureReason(error) };
    await svc.progress.markMailDown(claim, down).catch(() => context.error('Could not record in the notify state that mail is down; the console will not show it.'));
    const permanent = error instanceof MailDownError || (error instanceof MailRefusedError && error.permanent);
    if (permanent || now.getTime() - Date.parse(down.since) >= svc.settings.ALERT_FAILING_MINUTES * 60_000) {
        await recordAlert(svc.alerts, mailDownEvent(down.since, down.reason, now), (line) => context.error(line));
    }
    context.error(`Digests have failed since ${down.since}: ${down.reason} No lead is set aside; the leads wait for the next run.`);
}

/** One send; a failure that does not say something in the digest is refused records that mail is down. */
async function transmit(run: Run, mail: Mail): Promise<SendReport> {
    run.sends++;
    try {
        const report = await run.svc.transport.send(mail);
        run.accepted = true;
        return report;
    } catch (error) {
        if (!refusedForContent(run, error)) await markDown(run, error);
        throw error;
    }
}

function mailOf(digest: PendingDigest, from: string, to: readonly string[]): Mail {
    return { from, to, id: digest.id, subject: digest.subject, text: digest.text, html: digest.html };
}

/**
 * Keeps the digest for the recipients the mail server refused, to send it to them again on the next
 * runs; after `maxRecipientRetries` re-sends (or when it is too large to keep) they are set aside.
 */
async function keepForRefused(run: Run, digest: PendingDigest, refused: SendReport['refused']): Promise<void> {
    if (refused.length === 0) return;
    const { progress } = run.svc;
    const retries = digest.retries ?? 0;
    const again: PendingDigest = { ...digest, to: refused.map((r) => r.address), retries };
    const kept = retries < maxRecipientRetries && (await progress.keepForRetry(again));
    for (const { address, reason } of refused) {
        if (kept) {
            run.context.error(`The mail server refused the recipient ${address} (${reason}) for digest ${digest.id}; it is sent that digest again on the next run (re-send ${retries + 1} of ${maxRecipientRetries}).`);
            continue;
        }
        await setAside(run, { kind: 'recipient', subject: address, reason: `The mail server refused this recipient (${reason}) for digest ${digest.id}, ${retries + 1} time(s).` });
        run.context.error(`The mail server refused the recipient ${address} (${reason}) for digest ${digest.id} ${retries + 1} time(s); it is set aside: see "npm run leads -- set-aside".`);
    }
    if (!kept && retries > 0) await progress.dropRetry(digest.id);
}

/**
 * Sends one digest exactly as written down before: the same id, so the same Message-ID (and ACS
 * operation id) when it is sent again after a crash or an answer that came too late. Its leads are
 * remembered as notified, and the pending digest cleared, in one write after the send.
 */
async function sendPending(run: Run, pending: PendingDigest): Promise<void> {
    const { settings: s, transport, progress } = run.svc;
    const to = pending.to ?? s.NOTIFY_TO;
    const { refused } = await transmit(run, mailOf(pending, s.NOTIFY_FROM, to));
    const wasDown = run.claim.mailDown;
    // Kept before the progress save: a crash between the two sends the digest again, same Message-ID, and keeps it again.
    await keepForRefused(run, pending, refused);
    await progress.save(run.claim, remember(run.claim.progress, pending.positions), { sent: true });
    run.report.digests++;
    run.report.leads += pending.positions.length;
    run.context.log(`Sent a digest of ${pending.positions.length} new or updated lead(s) to ${to.length - refused.length} of ${to.length} recipient(s) through ${transport.name}.`);
    if (wasDown) run.context.log(`Mail works again: digests had failed since ${wasDown.since}.`);
}

/** Sends a kept digest again to the recipients the mail server refused, same Message-ID; they may be taken out of NOTIFY_TO meanwhile. */
async function resendToRefused(run: Run, digest: PendingDigest): Promise<void> {
    const { settings: s, transport, progress } = run.svc;
    const to = (digest.to ?? []).filter((address) => s.NOTIFY_TO.includes(address));
    if (to.length === 0) return progress.dropRetry(digest.id);
    run.sends++;
    let refused: SendReport['refused'];
    try {
        ({ refused } = await transport.send(mailOf(digest, s.NOTIFY_FROM, to)));
    } catch (error) {
        if (!(error instanceof MailRefusedError) || error.of !== 'recipients') throw error;
        refused = error.refused;
    }
    run.report.resent = (run.report.resent ?? 0) + 1;
    run.context.log(`Sent digest ${digest.id} again to ${to.length - refused.length} of ${to.length} recipient(s) the mail server had refused, through ${transport.name}.`);
    if (refused.length === 0) return progress.dropRetry(digest.id);
    await keepForRefused(run, { ...digest, retries: (digest.retries ?? 0) + 1 }, refused);
}

async function resendKeptDigests(run: Run): Promise<void> {
    for (const digest of await run.svc.progress.retries()) {
        if (!hasBudget(run)) return;
        await resendToRefused(run, digest);
    }
}

/** Writes the digest of these candidates down, to be sent: a new id, so a new Message-ID. */
async function writeDown(run: Run, rows: readonly Candidate[]): Promise<PendingDigest> {
    // A lead new in this digest shows its newest content already: its updates are not listed again.
    const fresh = new Set(rows.filter((row) => !row.lead.update).map((row) => row.lead.leadId));
    const listed = rows.filter((row) => !row.lead.update || !fresh.has(row.lead.leadId));
    const digest = composeDigest(
        listed.map((row) => row.lead),
        run.svc.settings.NOTIFY_PII,
        run.svc.consoleUrl,
    );
    const pending: PendingDigest = { id: randomUUID(), positions: rows.map((row) => row.position), to: [...run.svc.settings.NOTIFY_TO], ...digest };
    await run.svc.progress.save(run.claim, run.claim.progress, { pending });
    return pending;
}

/** Writes the digest of these candidates down, then sends it. */
async function sendDigestOf(run: Run, rows: readonly Candidate[]): Promise<void> {
    await sendPending(run, await writeDown(run, rows));
}

/**
 * Every part of the batch refused, and no other mail taken: the whole batch is written down as
 * the next digest, so the next run sends it once rather than splitting again, and no lead is set
 * aside. Mail is recorded as down.
 */
async function allRefused(run: Run, rows: readonly Candidate[], last: MailRefusedError): Promise<never> {
    await writeDown(run, rows);
    const down = new MailDownError(`The mail server refused every digest it was sent, each lead alone too, and took no other mail (last: ${last.message})`);
    await markDown(run, down);
    throw down;
}

/**
 * Sends a batch, splitting it when the mail server refuses the message itself for good (a 5xx
 * such as a spam rejection) to find the leads it refuses, and mails the rest. A lead refused alone
 * is set aside only once the server has taken some other digest in this run; until then it is
 * held, and a second one held (or the batch ending with one held) means the server refuses
 * everything: see allRefused. Returns false when the run's budget ran out before the batch was done.
 */
async function sendBatch(run: Run, rows: readonly Candidate[]): Promise<boolean> {
    const parts: (readonly Candidate[])[] = [rows];
    const held: { row: Candidate; reason: string }[] = [];
    let last: MailRefusedError | undefined;
    for (let part = parts.pop(); part; part = parts.pop()) {
        // Out of budget, what is held is neither set aside nor taken for the server's: the next run tries again.
        if (!hasBudget(run)) return false;
        try {
            await sendDigestOf(run, part);
            for (const { row, reason } of held.splice(0)) await setAsideLead(run, row, reason);
        } catch (error) {
            if (!refusedForContent(run, error)) throw error;
            last = error;
            const [only] = part;
            if (part.length > 1 || !only) {
                const half = Math.ceil(part.length / 2);
                parts.push(part.slice(half), part.slice(0, half));
            } else if (run.accepted) await setAsideLead(run, only, error.message);
            else if (held.push({ row: only, reason: error.message }) > 1) await allRefused(run, rows, error);
        }
    }
    if (held.length > 0 && last) await allRefused(run, rows, last);
    return true;
}

/** Sets a lead or a recipient aside, the operator's alert written first: a crash between the two leaves an alert, never a silent set-aside. */
async function setAside(run: Run, entry: Omit<SetAside, 'source' | 'at'>): Promise<void> {
    await recordAlert(run.svc.alerts, setAsideEvent(entry), (line) => run.context.error(line));
    await run.svc.progress.setAside(entry);
}

async function setAsideLead(run: Run, row: Candidate, reason: string): Promise<void> {
    const { progress } = run.svc;
    await setAside(run, { kind: 'lead', subject: row.lead.leadId || row.position, reason: `${reason} Every digest with this lead was refused.` });
    await progress.save(run.claim, remember(run.claim.progress, [row.position]));
    run.report.setAside = (run.report.setAside ?? 0) + 1;
    run.context.error(`The mail server refuses every digest with lead ${row.lead.leadId || row.position} (${reason}); it is set aside and the others are mailed. See "npm run leads -- set-aside".`);
}

/**
 * Sends the digest written down but not known to be sent, the same one again, before anything new.
 * Refused for what it holds, it is forgotten, and its leads are taken again, where a refused batch
 * is split. But while mail is down, or refused for its sender or account, only a digest of newer
 * leads is tried, once (the server may take that one, and then the older are split as above), so a
 * server that refuses everything costs one or two sends a run and sets no lead aside.
 */
async function sendWrittenDown(run: Run, pending: PendingDigest): Promise<void> {
    const { settings: s, source, progress } = run.svc;
    try {
        await sendPending(run, pending);
        return;
    } catch (error) {
        const sending = error instanceof MailRefusedError && error.of === 'sending';
        if (!sending && !refusesMessage(error)) throw error;
        if (!sending && !run.claim.mailDown) return progress.save(run.claim, run.claim.progress);
        const newest = pending.positions.reduce((a, b) => (a > b ? a : b), run.claim.progress.cursor);
        const newer = await source.take({ cursor: newest, recent: run.claim.progress.recent }, s.NOTIFY_MAX_LEADS_PER_MAIL);
        if (newer.rows.length === 0 || !hasBudget(run)) {
            // A refusal of its content is no sign of its own that mail is down; here it is the same refusal again.
            if (!sending) await markDown(run, error);
            throw error;
        }
        try {
            await sendDigestOf(run, newer.rows);
        } catch (probe) {
            if (refusesMessage(probe)) await markDown(run, probe);
            throw probe;
        }
    }
}

async function sendDigests(run: Run): Promise<RunReport> {
    const { settings: s, source, progress } = run.svc;
    if (run.claim.pending) {
        if (!hasBudget(run)) return run.report;
        await sendWrittenDown(run, run.claim.pending);
    }
    await resendKeptDigests(run);
    while (hasBudget(run)) {
        const batch = await source.take(run.claim.progress, s.NOTIFY_MAX_LEADS_PER_MAIL);
        const settledBefore = positionAt(new Date(Date.now() - source.settleMs));
        if (batch.rows.length === 0) {
            const next = advance(run.claim.progress, [], false, settledBefore);
            if (next.cursor !== run.claim.progress.cursor || next.recent.length !== run.claim.progress.recent.length) await progress.save(run.claim, next);
            break;
        }
        // The cursor moves only once every lead of the batch was accepted or set aside: a failed send is retried next run.
        if (!(await sendBatch(run, batch.rows))) break;
        await progress.save(
            run.claim,
            advance(
                run.claim.progress,
                batch.rows.map((row) => row.position),
                batch.more,
                settledBefore,
            ),
        );
        if (!batch.more) break;
    }
    return run.report;
}

/**
 * Mails the publisher's contacts one digest about the leads stored since the last digest that was
 * really sent: never a lead missed, never one mailed twice.
 */
export async function notifyContacts(context: InvocationContext): Promise<RunReport> {
    return runNotification(await notifyServices(), context);
}

/** One notification run with the given services. */
export async function runNotification(svc: NotifyServices, context: InvocationContext): Promise<RunReport> {
    if (svc.settings.NOTIFY_TO.length === 0) {
        context.log('NOTIFY_TO is not set: no digest is sent, and new leads wait until it is.');
        return { digests: 0, leads: 0, skipped: 'no recipients' };
    }
    const claim = await svc.progress.claim(mailLeaseMs);
    if (!claim) {
        context.log('Another run is sending digests; this one stops.');
        return { digests: 0, leads: 0, skipped: 'another run holds the lease' };
    }
    try {
        return await sendDigests({ svc, claim, context, report: { digests: 0, leads: 0 }, sends: 0, accepted: false });
    } finally {
        await svc.progress.release(claim);
    }
}
