import type { Settings } from '../config/settings';
import { poisonLead, poisonQueueNames } from '../deliver/replay';
import { queueClientFor } from '../storage/clients';
import type { DeliveryLog } from '../store/deliveryLog';
import { listSetAside, type SetAside } from '../store/notifyProgress';

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
    /** When the message went into the poison queue (the queue's insertion time). */
    poisonedAt?: string;
    reason: string;
    /** The destination may have the lead: a person checks the vendor before replaying it. */
    uncertain: boolean;
}

export interface Attention {
    poisoned: PoisonedLead[];
    /** Messages in the poison queues, as the queues count them (more than `poisoned` past the peek limit). */
    poisonCount: number;
    setAside: SetAside[];
}

async function poisonedIn(s: Settings, log: DeliveryLog, name: string): Promise<{ count: number; leads: PoisonedLead[] }> {
    const queue = await queueClientFor(s.storage, name);
    if (!(await queue.exists())) return { count: 0, leads: [] };
    const [{ approximateMessagesCount = 0 }, { peekedMessageItems }] = await Promise.all([queue.getProperties(), queue.peekMessages({ numberOfMessages: peekLimit })]);
    const leads = await Promise.all(
        peekedMessageItems.map(async (message): Promise<PoisonedLead> => {
            const lead = poisonLead(message.messageText);
            if (!lead) return { queue: name, reason: 'The message is not a lead; it is left where it is.', uncertain: false };
            const destination = lead.delivery?.destination;
            const record = destination ? (await log.list(lead.id)).find((r) => r.destination === destination) : undefined;
            const reason = record?.lastError ?? (destination ? 'No reason was recorded.' : 'The lead could not be routed (a setting was wrong when it arrived).');
            const poisonedAt = message.insertedOn.toISOString();
            const { company } = lead.customer;
            return { queue: name, leadId: lead.id, destination, company, offer: lead.offerTitle || lead.offer, receivedAt: lead.receivedAt, poisonedAt, reason, uncertain: record?.state === 'uncertain' };
        }),
    );
    return { count: Math.max(approximateMessagesCount, leads.length), leads };
}

/** What needs a person: leads in the poison queues, and what the mail server refused and was set aside. */
export async function needsAttention(s: Settings, log: DeliveryLog): Promise<Attention> {
    const [queues, setAside] = await Promise.all([Promise.all(poisonQueueNames(s).map((name) => poisonedIn(s, log, name))), listSetAside(s.storage, s.NOTIFY_STATE_TABLE)]);
    return { poisoned: queues.flatMap((q) => q.leads), poisonCount: queues.reduce((sum, q) => sum + q.count, 0), setAside };
}
