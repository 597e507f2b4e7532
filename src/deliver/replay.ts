import type { QueueClient } from '@azure/storage-queue';
import { destinationNames, type Settings } from '../config/settings';
import { JsonQueue } from '../queue/jsonQueue';
import { leadMessageSchema, type LeadMessage } from '../queue/leadMessage';
import { queueClientFor } from '../storage/clients';
import { AttentionIndex } from './attentionIndex';
import { DeliveryLog } from './deliveryLog';
import { noteAttention } from './attentionNote';
import { routedDestinations } from './routing';
import { destinationQueueName } from './services';
import { keepingItsOrder } from '../lead/version';

/** Every poison queue: the app's own, and the host's for each destination's queue. */
export function poisonQueueNames(s: Pick<Settings, 'LEADS_QUEUE'>): string[] {
    return [`${s.LEADS_QUEUE}-poison`, ...destinationNames.map((name) => `${destinationQueueName(s.LEADS_QUEUE, name)}-poison`)];
}

export interface ReplayOptions {
    /** Also replay deliveries whose fate is uncertain: a person checked the vendor does not have them. */
    includeUncertain: boolean;
    /** Only the messages of these leads; every lead when not given. */
    leadIds?: ReadonlySet<string>;
}

export interface ReplayReport {
    moved: number;
    /** Messages that are not leads, left where they are. */
    kept: number;
    /** Uncertain deliveries left for a person to check. */
    uncertain: number;
    /** One line per lead sent back: its id and where it went, never its customer. */
    lines: string[];
}

/** The value of a poison message: JSON in base64, as the queue trigger writes it, or undefined. */
export function poisonValue(messageText: string): unknown {
    try {
        return JSON.parse(Buffer.from(messageText, 'base64').toString('utf8'));
    } catch {
        return undefined;
    }
}

/** The lead a poison message holds, or undefined when it holds none. */
export function poisonLead(messageText: string): LeadMessage | undefined {
    const parsed = leadMessageSchema.safeParse(poisonValue(messageText));
    return parsed.success ? parsed.data : undefined;
}

class Replayer {
    readonly report: ReplayReport = { moved: 0, kept: 0, uncertain: 0, lines: [] };
    // One client per queue, so that each queue is made sure of once, not once per lead.
    private readonly queues = new Map<string, Promise<JsonQueue>>();

    constructor(
        private readonly s: Settings,
        private readonly log: DeliveryLog,
        private readonly attention: AttentionIndex,
        private readonly options: ReplayOptions,
    ) {}

    private queueNamed(name: string): Promise<JsonQueue> {
        const queue = this.queues.get(name) ?? JsonQueue.connect(this.s.storage, name);
        this.queues.set(name, queue);
        return queue;
    }

    /**
     * Sends one poisoned lead back: a copy for one destination goes to that destination's queue as
     * the next link of its chain, marked as a replay; a lead that never got past routing goes back to
     * the leads queue. An uncertain delivery stays unless the options say a person checked the vendor.
     */
    async replayOne(message: LeadMessage | undefined): Promise<boolean> {
        if (!message) {
            this.report.kept++;
            return false;
        }
        const { delivery, ...lead } = message;
        const destination = delivery?.destination;
        if (!destination) {
            await (await this.queueNamed(this.s.LEADS_QUEUE)).send(keepingItsOrder(lead));
            this.report.lines.push(`${lead.id}: routed again`);
            return true;
        }
        const record = await this.log.get(lead.id, destination);
        if (record?.state === 'uncertain' && !this.options.includeUncertain) {
            this.report.uncertain++;
            return false;
        }
        const queueName = destinationQueueName(this.s.LEADS_QUEUE, destination);
        // Its trigger is not registered (see routedDestinations): the lead waits there, and the operator should know.
        const waits = routedDestinations(this.s).has(destination) ? '' : ` (${destination} is not in the routing settings: the lead waits on ${queueName} until it is again)`;
        this.report.lines.push(`${lead.id}: ${destination} again${record?.lastError ? `, after: ${record.lastError}` : ''}${waits}`);
        const next = { ...lead, delivery: { destination, ticket: Math.max(delivery.ticket, record?.ticket ?? 0) + 1, attempt: 1, replay: true } };
        await (await this.queueNamed(queueName)).send(next);
        // Until its turn comes the console lists it as sent back, not as given up, and not nowhere.
        const mark = { state: 'replayed' as const, failed: record?.state === 'failed', reason: `Sent back to ${queueName} by a person${record?.lastError ? ` after: ${record.lastError}` : ''}.`, nextTryAt: new Date() };
        await noteAttention(this.attention, lead, destination, mark, (line) => this.report.lines.push(line));
        return true;
    }

    async drain(poison: QueueClient): Promise<void> {
        const seen = new Set<string>();
        const left: { messageId: string; popReceipt: string }[] = [];
        try {
            for (;;) {
                const { receivedMessageItems } = await poison.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
                const fresh = receivedMessageItems.filter((m) => !seen.has(m.messageId));
                if (fresh.length === 0) break;
                for (const message of fresh) {
                    seen.add(message.messageId);
                    const lead = poisonLead(message.messageText);
                    const wanted = !this.options.leadIds || (lead !== undefined && this.options.leadIds.has(lead.id));
                    if (wanted && (await this.replayOne(lead))) {
                        await poison.deleteMessage(message.messageId, message.popReceipt);
                        this.report.moved++;
                    } else left.push(message);
                }
            }
        } finally {
            // Every message received and left (another lead's, one that is no lead, an uncertain delivery) is visible again at once, not in a minute.
            await Promise.all(left.map((m) => poison.updateMessage(m.messageId, m.popReceipt, undefined, 0).catch(() => undefined)));
        }
    }
}

/** Sends the leads in the poison queues (all, or those named) back to their destinations; `npm run leads -- replay-poison` and the console's Replay. */
export async function replayPoison(s: Settings, options: ReplayOptions): Promise<ReplayReport> {
    const [log, attention] = await Promise.all([DeliveryLog.connect(s.storage, s.DELIVERIES_TABLE), AttentionIndex.connect(s.storage, s.DELIVERIES_TABLE)]);
    const replayer = new Replayer(s, log, attention, options);
    for (const name of poisonQueueNames(s)) {
        const poison = await queueClientFor(s.storage, name);
        if (!(await poison.exists())) continue;
        await replayer.drain(poison);
    }
    return replayer.report;
}
