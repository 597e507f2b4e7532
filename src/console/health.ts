import { alertKinds } from '../alert/alertEvent';
import { CheckStore, type StoredCheck } from '../check/checkStore';
import type { Settings } from '../config/settings';
import { readEntity, tableClientFor } from '../storage/clients';
import type { LeadsTable } from '../store/leadsTable';
import { digestProgress, type MailDown } from '../notify/notifyProgress';
import { total } from './figures';
import type { Attention } from './attention';

export interface Health {
    lastLeadAt?: string;
    leadsToday: number;
    leadsThisWeek: number;
    /**
     * Deliveries failing now (to be tried again, waiting behind an open circuit, or sent back by a
     * person), per destination: the attention index, which "Needs attention" lists too.
     */
    failing: Record<string, number>;
    poisonCount: number;
    lastDigestAt?: string;
    /** Digests have failed to go since then, not for a lead's sake (the mail server, the sender, the account), until one goes. */
    digestsFailing?: MailFailure;
    /** The operator's alert mails have failed to go since then, until one goes. */
    alertsFailing?: MailFailure;
    /** Each destination's last check (CHECKS_TABLE), by name. */
    checks: StoredCheck[];
}

/** Mail of one kind has failed to go since then, and why: the notifier's MailDown, the alert sender's likewise. */
export type MailFailure = MailDown;

const dayMs = 86_400_000;

function dayOf(ms: number): string {
    return new Date(ms).toISOString().slice(0, 10);
}

/** The earliest failure of several, with its reason. */
function earliest(failures: (MailFailure | undefined)[]): MailFailure | undefined {
    const found = failures.filter((f): f is MailFailure => f !== undefined).sort((a, b) => (a.since < b.since ? -1 : 1));
    return found[0];
}

/** When the last digest went out, and whether digests fail now, as the notifier's progress says (one row per source table). */
async function digestState(s: Settings): Promise<{ lastDigestAt?: string; digestsFailing?: MailFailure }> {
    const { lastSentAt, mailDown } = await digestProgress(s.storage, s.NOTIFY_STATE_TABLE);
    const digestsFailing = earliest(mailDown);
    return { ...(lastSentAt ? { lastDigestAt: lastSentAt } : {}), ...(digestsFailing ? { digestsFailing } : {}) };
}

/** Whether alert mails fail now: each kind's sender state in ALERTS_TABLE (one point read a kind). */
async function alertsFailing(s: Settings): Promise<MailFailure | undefined> {
    const client = await tableClientFor(s.storage, s.ALERTS_TABLE);
    const states = await Promise.all(alertKinds.map((kind) => readEntity<{ FailingSince?: string; LastFailure?: string }>(client, kind, 'state')));
    return earliest(states.map((state) => (state?.FailingSince ? { since: state.FailingSince, reason: state.LastFailure ?? '' } : undefined)));
}

/** When the newest lead the marketplace sent was stored (imported leads are not a sign that leads arrive). */
async function newestLeadAt(leads: LeadsTable, now: number): Promise<string | undefined> {
    for await (const row of leads.newest({ fromDay: dayOf(now - 365 * dayMs), toDay: dayOf(now) })) if (row.Imported !== true) return row.rowKey.slice(0, 24);
    return undefined;
}

/** The health strip: is the marketplace reaching the app, are leads getting out, are digests going. */
export async function healthOf(s: Settings, leads: LeadsTable, attention: Attention, now = Date.now()): Promise<Health> {
    const today = dayOf(now);
    const [lastLeadAt, week, digests, alertMail, checks] = await Promise.all([
        newestLeadAt(leads, now),
        leads.stats.figures(dayOf(now - 6 * dayMs), today, new Date(now)),
        digestState(s),
        alertsFailing(s),
        CheckStore.connect(s.storage, s.CHECKS_TABLE).then((store) => store.list()),
    ]);
    const failing: Record<string, number> = {};
    for (const entry of attention.failing) failing[entry.destination] = (failing[entry.destination] ?? 0) + 1;
    return {
        ...(lastLeadAt ? { lastLeadAt } : {}),
        // Imported leads are no sign that leads arrive.
        leadsToday: total(
            week.filter((tally) => tally.day === today),
            { hideImported: true },
        ),
        leadsThisWeek: total(week, { hideImported: true }),
        failing,
        poisonCount: attention.poisonCount,
        ...digests,
        ...(alertMail ? { alertsFailing: alertMail } : {}),
        checks,
    };
}
