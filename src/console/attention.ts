import type { Settings } from '../config/settings';
import { poisonLead, poisonQueueNames } from '../deliver/replay';
import { queueClientFor } from '../storage/clients';
import type { AttentionEntry } from '../deliver/attentionIndex';
import { listSetAside, type SetAside } from '../notify/notifyProgress';

/** A queue shows at most this many messages without taking them (Azure Queue Storage's peek limit). */
const peekLimit = 32;

export interface PoisonedLead {
    queue: string;
    /** Absent for a message that holds no lead: it is listed, and replay leaves it. */
    leadId?: string;
    destination?: string;
    company?: string;
    offer?: string;
    receivedAt?: string;
    /** When it went to the poison queue, when the index knows. */
    at?: string;
    reason: string;
    /** The destination may have the lead: a person checks the vendor before replaying it. */
    uncertain: boolean;
}

export interface Attention {
    poisoned: PoisonedLead[];
    /** Messages in the poison queues: as the queues count them, or as many as are listed if more. */
    poisonCount: number;
    /** Deliveries failing now, waiting behind an open circuit, or sent back by a person: with when each is tried next. */
    failing: AttentionEntry[];
    setAside: SetAside[];
}

/** Newest lead first. */
function byLeadTime<T extends { receivedAt?: string }>(a: T, b: T): number {
    return (a.receivedAt ?? '') < (b.receivedAt ?? '') ? 1 : -1;
}

function poisonedOf(entry: AttentionEntry, queue: string): PoisonedLead {
    return {
        queue,
        leadId: entry.leadId,
        destination: entry.destination,
        company: entry.company,
        offer: entry.offer,
        receivedAt: entry.receivedAt,
        at: entry.at,
        reason: entry.reason,
        uncertain: entry.state === 'uncertain',
    };
}

/**
 * A poison queue's count, and the messages in it the index does not list: a message that is no lead,
 * a lead that could not be routed, or one poisoned before the index was kept.
 */
async function unlistedIn(s: Settings, name: string, listed: ReadonlySet<string>): Promise<{ count: number; leads: PoisonedLead[] }> {
    const queue = await queueClientFor(s.storage, name);
    if (!(await queue.exists())) return { count: 0, leads: [] };
    const [{ approximateMessagesCount = 0 }, { peekedMessageItems }] = await Promise.all([queue.getProperties(), queue.peekMessages({ numberOfMessages: peekLimit })]);
    const leads = peekedMessageItems.flatMap((message): PoisonedLead[] => {
        const lead = poisonLead(message.messageText);
        if (!lead) return [{ queue: name, reason: 'The message is not a lead; it is left where it is.', uncertain: false }];
        const destination = lead.delivery?.destination;
        if (listed.has(`${lead.id}/${destination ?? ''}`)) return [];
        const reason = destination
            ? 'The attention index has no entry for it: it went to the poison queue before the index was kept, or a later copy was delivered since (replaying it then only counts it).'
            : 'The lead could not be routed (a setting was wrong when it arrived).';
        return [
            {
                queue: name,
                leadId: lead.id,
                destination,
                company: lead.customer.company,
                offer: lead.offerTitle || lead.offer,
                receivedAt: lead.receivedAt,
                at: message.insertedOn.toISOString(),
                reason,
                uncertain: false,
            },
        ];
    });
    return { count: approximateMessagesCount, leads };
}

/**
 * What needs a person, from the attention index (complete at any size) and the poison queues' own
 * counts: leads that gave up or are uncertain, deliveries failing now or waiting behind an open
 * circuit, and what the mail server refused and was set aside.
 */
export async function needsAttention(s: Settings, entries: readonly AttentionEntry[]): Promise<Attention> {
    const inPoison = entries.filter((entry) => entry.state === 'poisoned' || entry.state === 'uncertain');
    const listed = new Set(inPoison.map((entry) => `${entry.leadId}/${entry.destination}`));
    const [queues, setAside] = await Promise.all([Promise.all(poisonQueueNames(s).map((name) => unlistedIn(s, name, listed))), listSetAside(s.storage, s.NOTIFY_STATE_TABLE)]);
    const poisoned = [...inPoison.map((entry) => poisonedOf(entry, `${s.LEADS_QUEUE}-poison`)), ...queues.flatMap((q) => q.leads)].sort(byLeadTime);
    const poisonCount = Math.max(
        queues.reduce((sum, q) => sum + q.count, 0),
        poisoned.length,
    );
    const failing = entries.filter((entry) => entry.state !== 'poisoned' && entry.state !== 'uncertain').sort(byLeadTime);
    return { poisoned, poisonCount, failing, setAside };
}
