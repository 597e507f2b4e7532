import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import { setAsideEvent } from '../alert/alertEvent';
import { AlertStore } from '../alert/alertStore';
import { recordAlert, type AlertRecorder } from '../alert/recordAlert';
import { ConfigurationError, mailSettingsProblems, settings, type Settings } from '../config/settings';
import { lazy } from '../runtime/lazy';
import { NotifyProgressStore, type Claim, type PendingDigest, type SetAside } from '../store/notifyProgress';
import { advance, positionAt, remember } from './cursor';
import { composeDigest } from './digest';
import { AppLeadsTableSource, MarketplaceTableSource, type Candidate, type NewLeadsSource } from './sources';
import { transportFor } from './transports';
import { MailRefusedError, type Mail, type MailTransport, type SendReport } from './transports/transport';

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
}

export const notifyServices = lazy(async (): Promise<NotifyServices> => {
    const s = settings();
    const problems = mailSettingsProblems(s);
    if (problems.length > 0) throw new ConfigurationError(problems);
    const source = s.NOTIFY_SOURCE_TABLE ? await MarketplaceTableSource.connect(s.NOTIFY_SOURCE_CONNECTION ?? s.storage, s.NOTIFY_SOURCE_TABLE) : await AppLeadsTableSource.connect(s.storage, s.LEADS_TABLE);
    const progress = await NotifyProgressStore.connect(s.storage, s.NOTIFY_STATE_TABLE, source.name);
    return { settings: s, source, progress, transport: await transportFor(s), alerts: await AlertStore.connect(s.storage, s.ALERTS_TABLE) };
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
    run.sends++;
    const { refused } = await transport.send(mailOf(pending, s.NOTIFY_FROM, to));
    // Kept before the progress save: a crash between the two sends the digest again, same Message-ID, and keeps it again.
    await keepForRefused(run, pending, refused);
    await progress.save(run.claim, remember(run.claim.progress, pending.positions), { sent: true });
    run.report.digests++;
    run.report.leads += pending.positions.length;
    run.context.log(`Sent a digest of ${pending.positions.length} new or updated lead(s) to ${to.length - refused.length} of ${to.length} recipient(s) through ${transport.name}.`);
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

/** Writes the digest of these candidates down, then sends it. */
async function sendDigestOf(run: Run, rows: readonly Candidate[]): Promise<void> {
    // A lead new in this digest shows its newest content already: its updates are not listed again.
    const fresh = new Set(rows.filter((row) => !row.lead.update).map((row) => row.lead.leadId));
    const listed = rows.filter((row) => !row.lead.update || !fresh.has(row.lead.leadId));
    const digest = composeDigest(
        listed.map((row) => row.lead),
        run.svc.settings.NOTIFY_PII,
    );
    const pending: PendingDigest = { id: randomUUID(), positions: rows.map((row) => row.position), to: [...run.svc.settings.NOTIFY_TO], ...digest };
    await run.svc.progress.save(run.claim, run.claim.progress, { pending });
    await sendPending(run, pending);
}

/**
 * Sends a batch, splitting it when the mail server refuses the message itself for good (a 5xx
 * such as a spam rejection) to find the leads it refuses; those are set aside and the rest is
 * mailed. Returns false when the run's budget ran out before the batch was done.
 */
async function sendBatch(run: Run, rows: readonly Candidate[]): Promise<boolean> {
    const parts: (readonly Candidate[])[] = [rows];
    for (let part = parts.pop(); part; part = parts.pop()) {
        if (!hasBudget(run)) return false;
        try {
            await sendDigestOf(run, part);
        } catch (error) {
            if (!refusesMessage(error)) throw error;
            const [only] = part;
            if (part.length === 1 && only) {
                await setAsideLead(run, only, error.message);
                continue;
            }
            const half = Math.ceil(part.length / 2);
            parts.push(part.slice(half), part.slice(0, half));
        }
    }
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

async function sendDigests(run: Run): Promise<RunReport> {
    const { settings: s, source, progress } = run.svc;
    // A digest written down but not known to be sent: the same one again, before anything new.
    if (run.claim.pending) {
        if (!hasBudget(run)) return run.report;
        try {
            await sendPending(run, run.claim.pending);
        } catch (error) {
            if (!refusesMessage(error)) throw error;
            // Refused for good: forget it, and its leads are taken again below, where a refused batch is split.
            await progress.save(run.claim, run.claim.progress);
        }
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
        return await sendDigests({ svc, claim, context, report: { digests: 0, leads: 0 }, sends: 0 });
    } finally {
        await svc.progress.release(claim);
    }
}
