import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { destinationNames, settings, type Settings } from '../config/settings';
import { applySettings, readLocalSettings } from '../host/localSettings';
import { destinationQueueName } from '../deliver/services';
import { leadMessageSchema } from '../queue/leadMessage';
import { JsonQueue } from '../queue/jsonQueue';
import { queueClientFor } from '../storage/clients';
import { DeliveryLog } from '../store/deliveryLog';
import { listSetAside } from '../store/notifyProgress';
import { customerOf, LeadsTable } from '../store/leadsTable';
import { leadCsvHeader, leadCsvLine } from '../csv/leadsCsv';

const root = resolve(__dirname, '..', '..', '..');

const usage = `Usage: npm run leads -- <command>

  replay-poison [--uncertain]
                           send the leads in the poison queues back to their destinations
                           (--uncertain: also those a destination may already have)
  status <lead id>         a lead's delivery state at each destination
  list [--days N]          recent leads (default: the last 7 days), newest first
  set-aside                leads and recipients the mail server refused for good, newest first
  export --csv [--days N]  leads as CSV on standard output (default: the last 365 days)

Settings come from the environment, then local.settings.json "Values", as for the app.`;

function say(line = ''): void {
    process.stdout.write(`${line}\n`);
}

/** A century: beyond it a day count is a typo, and far enough beyond it Date overflows ("Invalid time value"). */
export const maxDays = 36_500;

/** The value of --days as a whole number of days from 1 to maxDays, or undefined when it is anything else. */
export function parseDays(text: string): number | undefined {
    if (!/^\d{1,6}$/.test(text)) return undefined;
    const days = Number(text);
    return days >= 1 && days <= maxDays ? days : undefined;
}

/** The UTC day `count - 1` days ago, as the leads table names its partitions. */
function firstDayOf(count: number, now = new Date()): string {
    return new Date(now.getTime() - (count - 1) * 86_400_000).toISOString().slice(0, 10);
}

/** Every poison queue: the app's own, and the host's for each destination's queue. */
function poisonQueueNames(s: Settings): string[] {
    return [`${s.LEADS_QUEUE}-poison`, ...destinationNames.map((name) => `${destinationQueueName(s.LEADS_QUEUE, name)}-poison`)];
}

interface ReplayCounts {
    moved: number;
    kept: number;
    uncertain: number;
}

/**
 * Sends one poisoned lead back: a copy for one destination goes to that destination's queue as the
 * next link of its chain, marked as a replay; a lead that never got past routing goes back to the
 * leads queue. An uncertain delivery stays unless `--uncertain` says a person checked the vendor.
 */
async function replayOne(s: Settings, log: DeliveryLog, queueNamed: (name: string) => Promise<JsonQueue>, value: unknown, includeUncertain: boolean, counts: ReplayCounts): Promise<boolean> {
    const parsed = leadMessageSchema.safeParse(value);
    if (!parsed.success) {
        counts.kept++;
        return false;
    }
    const { delivery, ...lead } = parsed.data;
    const destination = delivery?.destination;
    if (!destination) {
        await (await queueNamed(s.LEADS_QUEUE)).send(lead);
        say(`${lead.id}: routed again`);
        return true;
    }
    const record = (await log.list(lead.id)).find((r) => r.destination === destination);
    if (record?.state === 'uncertain' && !includeUncertain) {
        counts.uncertain++;
        return false;
    }
    say(`${lead.id}: ${destination} again${record?.lastError ? `, after: ${record.lastError}` : ''}`);
    const next = { ...lead, delivery: { destination, ticket: Math.max(delivery.ticket, record?.ticket ?? 0) + 1, attempt: 1, replay: true } };
    await (await queueNamed(destinationQueueName(s.LEADS_QUEUE, destination))).send(next);
    return true;
}

async function replayPoison(s: Settings, includeUncertain: boolean): Promise<void> {
    const log = await DeliveryLog.connect(s.storage, s.DELIVERIES_TABLE);
    const counts: ReplayCounts = { moved: 0, kept: 0, uncertain: 0 };
    // One client per queue, so that each queue is made sure of once, not once per lead.
    const queues = new Map<string, Promise<JsonQueue>>();
    const queueNamed = (name: string): Promise<JsonQueue> => {
        const queue = queues.get(name) ?? JsonQueue.connect(s.storage, name);
        queues.set(name, queue);
        return queue;
    };
    for (const name of poisonQueueNames(s)) {
        const poison = await queueClientFor(s.storage, name);
        if (!(await poison.exists())) continue;
        const seen = new Set<string>();
        for (;;) {
            const { receivedMessageItems } = await poison.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
            const fresh = receivedMessageItems.filter((m) => !seen.has(m.messageId));
            if (fresh.length === 0) break;
            for (const message of fresh) {
                seen.add(message.messageId);
                let value: unknown;
                try {
                    value = JSON.parse(Buffer.from(message.messageText, 'base64').toString('utf8'));
                } catch {
                    value = undefined;
                }
                if (!(await replayOne(s, log, queueNamed, value, includeUncertain, counts))) continue;
                await poison.deleteMessage(message.messageId, message.popReceipt);
                counts.moved++;
            }
        }
    }
    const kept = counts.kept ? ` Left ${counts.kept} message(s) that are not leads.` : '';
    const uncertain = counts.uncertain ? ` Left ${counts.uncertain} uncertain deliver${counts.uncertain === 1 ? 'y' : 'ies'}: check the destination has not got the lead, then replay with --uncertain.` : '';
    say(`Replayed ${counts.moved} lead(s) from the poison queues.${kept}${uncertain}`);
}

async function showSetAside(s: Settings): Promise<void> {
    const entries = await listSetAside(s.storage, s.NOTIFY_STATE_TABLE);
    say(`${entries.length} set aside in ${s.NOTIFY_STATE_TABLE}${entries.length ? ':' : '.'}`);
    for (const entry of entries) say(`${entry.at}  ${entry.kind.padEnd(9)} ${entry.subject}  ${entry.reason}`);
}

async function status(s: Settings, id: string | undefined): Promise<number> {
    if (!id || !/^[0-9a-f]{32}$/.test(id)) {
        process.stderr.write('Give the lead id: 32 hexadecimal digits, as POST /api/leads answered.\n');
        return 2;
    }
    const log = await DeliveryLog.connect(s.storage, s.DELIVERIES_TABLE);
    const records = await log.list(id);
    if (records.length === 0) {
        say(`No delivery has been recorded for lead ${id} (yet).`);
        return 1;
    }
    say(`Lead ${id}`);
    for (const r of records) {
        const detail = [r.target, r.lastError ? `${r.failureKind ?? ''} ${r.lastError}`.trim() : ''].filter(Boolean).join(' — ');
        say(`  ${r.destination.padEnd(11)} ${r.state.padEnd(10)} attempts ${String(r.attempts).padEnd(3)} ${r.completedAt ?? r.updatedAt}${detail ? `  ${detail}` : ''}`);
    }
    return 0;
}

async function list(s: Settings, days: number): Promise<void> {
    const table = await LeadsTable.connect(s.storage, s.LEADS_TABLE);
    const rows = await table.listSince(firstDayOf(days));
    say(`${rows.length} lead(s) in the last ${days} day(s) in ${s.LEADS_TABLE}:`);
    for (const row of rows) {
        const flags = [row.IsTest ? 'test' : '', row.DoNotContact ? 'do not contact' : '', row.Occurrences > 1 ? `seen ${row.Occurrences}×` : '', row.History ? `updated ${row.VersionAt ?? ''}`.trim() : '']
            .filter(Boolean)
            .join(', ');
        const customer = customerOf(row);
        say(`${row.CreatedTime}  ${row.LeadId}  ${row.Source}-${row.ActionCode}  ${row.OfferDisplayName || row.Offer}  ${customer.Company ?? ''}${flags ? `  (${flags})` : ''}`);
    }
}

async function exportCsv(s: Settings, days: number): Promise<void> {
    const table = await LeadsTable.connect(s.storage, s.LEADS_TABLE);
    const rows = await table.listSince(firstDayOf(days));
    process.stdout.write(leadCsvHeader());
    for (const row of rows) process.stdout.write(leadCsvLine(row));
}

async function main(): Promise<number> {
    const { values, positionals } = parseArgs({
        allowPositionals: true,
        options: {
            days: { type: 'string' },
            csv: { type: 'boolean' },
            uncertain: { type: 'boolean' },
            settings: { type: 'string', default: join(root, 'local.settings.json') },
            help: { type: 'boolean', short: 'h' },
        },
    });
    const [command, argument] = positionals;
    if (values.help || !command) {
        say(usage);
        return command ? 0 : 2;
    }
    const days = values.days === undefined ? undefined : parseDays(values.days);
    if (values.days !== undefined && days === undefined) {
        process.stderr.write(`--days is "${values.days}": give a whole number of days from 1 to ${maxDays}.\n`);
        return 2;
    }
    if (existsSync(values.settings)) applySettings(readLocalSettings(values.settings, root).settings.Values, process.env);
    const s = settings();
    switch (command) {
        case 'replay-poison':
            await replayPoison(s, values.uncertain === true);
            return 0;
        case 'status':
            return status(s, argument);
        case 'set-aside':
            await showSetAside(s);
            return 0;
        case 'list':
            await list(s, days ?? 7);
            return 0;
        case 'export':
            if (!values.csv) {
                process.stderr.write('export writes CSV: say --csv.\n');
                return 2;
            }
            await exportCsv(s, days ?? 365);
            return 0;
        default:
            process.stderr.write(`There is no command "${command}".\n\n${usage}\n`);
            return 2;
    }
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (error: unknown) => {
            process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
            process.exit(1);
        },
    );
}
