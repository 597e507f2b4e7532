import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import { settings, type Settings } from '../config/settings';
import { lazy } from '../runtime/lazy';
import { NotifyProgressStore, type Claim, type PendingDigest } from '../store/notifyProgress';
import { advance, positionAt, remember } from './cursor';
import { composeDigest } from './digest';
import { AppLeadsTableSource, MarketplaceTableSource, type Candidate, type NewLeadsSource } from './sources';
import { transportFor } from './transports';
import { smtpReplyTimeoutMs } from './transports/smtp';
import { MailRefusedError, type MailTransport } from './transports/transport';

/** Bounds one run: ACS allows about 30 mails a minute. What is left waits for the next run. */
const maxDigestsPerRun = 10;
/** Sends a run may try in all, refused ones included: splitting a refused digest costs a few. */
const maxSendsPerRun = 25;
/** Longer than the slowest send (the SMTP reply time-out) with room to spare; within host.json's functionTimeout. */
const leaseMs = 18 * 60_000;
/** No send starts unless this much lease is left: a send that outlasted the lease could race the next run's. */
const sendBudgetMs = smtpReplyTimeoutMs + 60_000;

export interface NotifyServices {
    settings: Settings;
    source: NewLeadsSource;
    progress: NotifyProgressStore;
    transport: MailTransport;
}

export const notifyServices = lazy(async (): Promise<NotifyServices> => {
    const s = settings();
    const source = s.NOTIFY_SOURCE_TABLE
        ? await MarketplaceTableSource.connect(s.NOTIFY_SOURCE_CONNECTION ?? s.storage, s.NOTIFY_SOURCE_TABLE)
        : await AppLeadsTableSource.connect(s.storage, s.LEADS_TABLE);
    const progress = await NotifyProgressStore.connect(s.storage, s.NOTIFY_STATE_TABLE, source.name);
    return { settings: s, source, progress, transport: await transportFor(s) };
});

export interface RunReport {
    digests: number;
    leads: number;
    /** Leads the mail server refused in every digest, set aside for a person to see. */
    setAside?: number;
    skipped?: 'no recipients' | 'another run holds the lease';
}

interface Run {
    svc: NotifyServices;
    claim: Claim;
    context: InvocationContext;
    report: RunReport;
    sends: number;
}

function hasBudget({ claim, report, sends }: Run): boolean {
    return report.digests < maxDigestsPerRun && sends < maxSendsPerRun && Date.parse(claim.leaseUntil) - Date.now() >= sendBudgetMs;
}

/**
 * Sends one digest exactly as written down before: the same id, so the same Message-ID (and ACS
 * operation id) when it is sent again after a crash or an answer that came too late. Its leads are
 * remembered as notified, and the pending digest cleared, in one write after the send.
 */
async function sendPending(run: Run, pending: PendingDigest): Promise<void> {
    const { settings: s, transport, progress } = run.svc;
    run.sends++;
    const { refused } = await transport.send({ from: s.NOTIFY_FROM, to: s.NOTIFY_TO, id: pending.id, subject: pending.subject, text: pending.text, html: pending.html });
    await progress.save(run.claim, remember(run.claim.progress, pending.positions), { sent: true });
    run.report.digests++;
    run.report.leads += pending.positions.length;
    const accepted = s.NOTIFY_TO.length - refused.length;
    run.context.log(`Sent a digest of ${pending.positions.length} new or updated lead(s) to ${accepted} of ${s.NOTIFY_TO.length} recipient(s) through ${transport.name}.`);
    for (const { address, reason } of refused) {
        await progress.setAside({ kind: 'recipient', subject: address, reason: `The mail server refused this recipient (${reason}) for digest ${pending.id}.` });
        run.context.error(`The mail server refused the recipient ${address} (${reason}); the digest went to the others. It is set aside: see "npm run leads -- set-aside".`);
    }
}

/** Writes the digest of these candidates down, then sends it. */
async function sendDigestOf(run: Run, rows: readonly Candidate[]): Promise<void> {
    // A lead new in this digest shows its newest content already: its updates are not listed again.
    const fresh = new Set(rows.filter((row) => !row.lead.update).map((row) => row.lead.leadId));
    const listed = rows.filter((row) => !row.lead.update || !fresh.has(row.lead.leadId));
    const digest = composeDigest(listed.map((row) => row.lead), run.svc.settings.NOTIFY_PII);
    const pending: PendingDigest = { id: randomUUID(), positions: rows.map((row) => row.position), ...digest };
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
            if (!(error instanceof MailRefusedError) || !error.permanent) throw error;
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

async function setAsideLead(run: Run, row: Candidate, reason: string): Promise<void> {
    const { progress } = run.svc;
    await progress.setAside({ kind: 'lead', subject: row.lead.leadId || row.position, reason: `${reason} Every digest with this lead was refused.` });
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
            if (!(error instanceof MailRefusedError) || !error.permanent) throw error;
            // Refused for good: forget it, and its leads are taken again below, where a refused batch is split.
            await progress.save(run.claim, run.claim.progress);
        }
    }
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
        await progress.save(run.claim, advance(run.claim.progress, batch.rows.map((row) => row.position), batch.more, settledBefore));
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
    const claim = await svc.progress.claim(leaseMs);
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
