import type { InvocationContext } from '@azure/functions';
import { settings, type Settings } from '../config/settings';
import { lazy } from '../runtime/lazy';
import { NotifyProgressStore, type Claim } from '../store/notifyProgress';
import { advance, positionAt, settleMs } from './cursor';
import { composeDigest } from './digest';
import { AppLeadsTableSource, MarketplaceTableSource, type NewLeadsSource } from './sources';
import { transportFor } from './transports';
import type { MailTransport } from './transports/transport';

/** Bounds one run: ACS allows about 30 mails a minute. What is left waits for the next run. */
const maxDigestsPerRun = 10;
/** Long enough for a run of digests; a run that dies frees its lease after this. */
const leaseMs = 5 * 60_000;
/** The longest one send may take (the transports' own time-outs are shorter): no send starts unless this much lease is left. */
const sendBudgetMs = 2 * 60_000;

export interface NotifyServices {
    settings: Settings;
    source: NewLeadsSource;
    progress: NotifyProgressStore;
    transport: MailTransport;
}

export const notifyServices = lazy(async (): Promise<NotifyServices> => {
    const s = settings();
    const source = s.NOTIFY_SOURCE_TABLE
        ? await MarketplaceTableSource.connect(s.storage, s.NOTIFY_SOURCE_TABLE)
        : await AppLeadsTableSource.connect(s.storage, s.LEADS_TABLE);
    const progress = await NotifyProgressStore.connect(s.storage, s.NOTIFY_STATE_TABLE, source.name);
    return { settings: s, source, progress, transport: await transportFor(s) };
});

export interface RunReport {
    digests: number;
    leads: number;
    skipped?: 'no recipients' | 'another run holds the lease';
}

async function sendDigests(svc: NotifyServices, claim: Claim, context: InvocationContext): Promise<RunReport> {
    const { settings: s, source, progress, transport } = svc;
    const report: RunReport = { digests: 0, leads: 0 };
    while (report.digests < maxDigestsPerRun) {
        // A send that outlasted the lease could race the next run's: the rest waits for that run.
        if (Date.parse(claim.leaseUntil) - Date.now() < sendBudgetMs) break;
        const batch = await source.take(claim.progress, s.NOTIFY_MAX_LEADS_PER_MAIL);
        const settledBefore = positionAt(new Date(Date.now() - settleMs));
        if (batch.rows.length === 0) {
            const next = advance(claim.progress, [], false, settledBefore);
            if (next.cursor !== claim.progress.cursor || next.recent.length !== claim.progress.recent.length) await progress.save(claim, next, false);
            break;
        }
        const digest = composeDigest(batch.rows.map((row) => row.lead), s.NOTIFY_PII);
        // The cursor moves only once the transport has accepted the mail: a failed send is retried next run.
        await transport.send({ from: s.NOTIFY_FROM, to: s.NOTIFY_TO, ...digest });
        report.digests++;
        report.leads += batch.rows.length;
        await progress.save(claim, advance(claim.progress, batch.rows.map((row) => row.position), batch.more, settledBefore), true);
        context.log(`Sent a digest of ${batch.rows.length} lead(s) to ${s.NOTIFY_TO.length} recipient(s) through ${transport.name}.`);
        if (!batch.more) break;
    }
    return report;
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
        return await sendDigests(svc, claim, context);
    } finally {
        await svc.progress.release(claim);
    }
}
