import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { settings, type Settings } from '../config/settings';
import { replayPoison } from '../deliver/replay';
import { applySettings, readLocalSettings } from '../host/localSettings';
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

async function replay(s: Settings, includeUncertain: boolean): Promise<void> {
    const report = await replayPoison(s, { includeUncertain });
    for (const line of report.lines) say(line);
    const kept = report.kept ? ` Left ${report.kept} message(s) that are not leads.` : '';
    const uncertain = report.uncertain ? ` Left ${report.uncertain} uncertain deliver${report.uncertain === 1 ? 'y' : 'ies'}: check the destination has not got the lead, then replay with --uncertain.` : '';
    say(`Replayed ${report.moved} lead(s) from the poison queues.${kept}${uncertain}`);
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
            await replay(s, values.uncertain === true);
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
