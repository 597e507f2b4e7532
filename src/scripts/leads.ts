import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { settings, type Settings } from '../config/settings';
import { replayPoison } from '../deliver/replay';
import { applySettings, readLocalSettings } from '../host/localSettings';
import { DeliveryLog } from '../deliver/deliveryLog';
import { listSetAside } from '../notify/notifyProgress';
import { customerOf, LeadsTable, type LeadEntity } from '../store/leadsTable';
import { leadCsvHeader, leadCsvLine } from '../csv/leadsCsv';
import { HeaderError } from '../import/columns';
import { importLeads, type ImportCounts, type ImportSummary } from '../import/importLeads';
import { importSummaryLines } from '../import/summaryLines';
import { escapeLogText } from '../runtime/logText';

const root = resolve(__dirname, '..', '..', '..');

const usage = `Usage: npm run leads -- <command>

  replay-poison [--uncertain]
                           send the leads in the poison queues back to their destinations
                           (--uncertain: also those a destination may already have)
  status <lead id>         a lead's delivery state at each destination
  list [--days N]          the leads created in the last N days (default: 7), newest first
  check [--destination NAME] [--post]
                           test each destination's credentials, fields and limits, and the
                           mail server, creating nothing (--post: also a test message to
                           Teams or Slack); exits 1 when one is failing
  set-aside                leads and recipients the mail server refused for good, newest first
  export --csv [--days N] [--out FILE]
                           the leads created in the last N days (default: 365) as CSV, to FILE
                           or standard output (nothing else is written there: use
                           "npm run --silent leads -- export --csv > FILE", as npm run prints
                           its own banner on standard output without --silent)
  import FILE.csv [--dry-run] [--map "Header=field" ...]
                           leads from a CSV file (this app's export or Partner Center's) onto
                           the leads queue, except those the app already has
                           (--dry-run: only say what it would do; --map: read a column the
                           alias table does not know as a lead field)

Settings come from the environment, then local.settings.json "Values", as for the app.`;

/** One line to the operator's terminal: what came from outside (a company, a CRM's error, a CSV header) cannot move the cursor or start another line. */
function say(line = ''): void {
    process.stdout.write(`${escapeLogText(line)}\n`);
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

async function check(s: Settings, only: string | undefined, post: boolean): Promise<number> {
    const { checkTargets, isCheckTarget, runChecks } = await import('../check/runChecks');
    if (only !== undefined && !isCheckTarget(only)) {
        process.stderr.write(`--destination is "${only}": give one of webhook, dynamics, salesforce, salesforce-api, marketo, hubspot, teams, slack or mail.\n`);
        return 2;
    }
    const targets = only === undefined ? checkTargets(s) : [only];
    if (targets.length === 0) {
        say('Nothing to check: leads go only to the table, and mail to the outbox.');
        return 0;
    }
    const results = await runChecks(targets, s, post);
    for (const line of (await import('../check/checkLines')).checkLines(results)) say(line);
    try {
        await (await import('../check/recordChecks')).recordChecks(s, results, (line) => process.stderr.write(`${line}\n`));
    } catch (error) {
        process.stderr.write(`The results were not kept in ${s.CHECKS_TABLE} for the console (${error instanceof Error ? error.name : 'an error'}); is storage running?\n`);
    }
    return results.some((r) => r.status === 'failing') ? 1 : 0;
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

/** The leads created on the last `days` UTC days, newest first: the range the console reads for the same days. */
async function recentRows(s: Settings, days: number): Promise<AsyncIterable<LeadEntity>> {
    const table = await LeadsTable.connect(s.storage, s.LEADS_TABLE);
    const now = new Date();
    return table.newest({ fromDay: firstDayOf(days, now), toDay: now.toISOString().slice(0, 10) });
}

async function list(s: Settings, days: number): Promise<void> {
    const rows: LeadEntity[] = [];
    for await (const row of await recentRows(s, days)) rows.push(row);
    say(`${rows.length} lead(s) created in the last ${days} day(s) in ${s.LEADS_TABLE}:`);
    for (const row of rows) {
        const flags = [
            row.Imported ? 'imported' : '',
            row.IsTest ? 'test' : '',
            row.DoNotContact ? 'do not contact' : '',
            row.Occurrences > 1 ? `seen ${row.Occurrences}×` : '',
            row.History ? `updated ${row.VersionAt ?? ''}`.trim() : '',
        ]
            .filter(Boolean)
            .join(', ');
        const customer = customerOf(row);
        say(`${row.CreatedTime}  ${row.LeadId}  ${row.Source}-${row.ActionCode}  ${row.OfferDisplayName || row.Offer}  ${customer.Company ?? ''}${flags ? `  (${flags})` : ''}`);
    }
}

/** Writes to the stream, waiting while its buffer is full, so that a large export never sits in memory. */
async function put(out: Writable, text: string): Promise<void> {
    if (!out.write(text)) await once(out, 'drain');
}

async function exportCsv(s: Settings, days: number, file: string | undefined): Promise<void> {
    const out = file === undefined ? process.stdout : createWriteStream(file);
    if (file !== undefined) {
        await once(out, 'open').catch((error: unknown) => {
            throw new Error(`The CSV cannot be written to "${escapeLogText(file)}": ${error instanceof Error ? error.message : String(error)}.`);
        });
    }
    let count = 0;
    await put(out, leadCsvHeader());
    for await (const row of await recentRows(s, days)) {
        await put(out, leadCsvLine(row));
        count++;
    }
    if (file === undefined) return;
    out.end();
    await once(out, 'finish');
    process.stderr.write(`Wrote ${count} lead(s) created in the last ${days} day(s) to "${escapeLogText(file)}".\n`);
}

/** The --map options as header → field (planColumns checks the fields against the file), or what is wrong with one. */
export function parseMaps(options: readonly string[]): { map: Record<string, string> } | { error: string } {
    const map = new Map<string, string>();
    for (const option of options) {
        const equals = option.lastIndexOf('=');
        const [header, field] = [option.slice(0, Math.max(equals, 0)).trim(), option.slice(equals + 1).trim()];
        if (equals < 0 || !header || !field) return { error: `--map is "${option}": give it as "Header=field", for example --map "Organisation name=company".` };
        const earlier = map.get(header);
        if (earlier !== undefined && earlier !== field) return { error: `--map names the column "${header}" twice, as "${earlier}" and "${field}".` };
        map.set(header, field);
    }
    // Object.fromEntries defines own properties, so a column named "__proto__" stays plain data.
    return { map: Object.fromEntries(map) };
}

function countsText(counts: ImportCounts, dryRun: boolean): string {
    const would = dryRun ? 'would be ' : '';
    return `${counts.new} ${would}new, ${counts.alreadyThere} already there, ${counts.updated} ${would}updated, ${counts.refused} refused`;
}

/** The summary as the import prints it: the lines the console shows too, with what only a command-line user needs. */
export function importReport(file: string, summary: ImportSummary): string[] {
    const lines = [`File "${file}"${summary.dryRun ? ' (dry run)' : ''}:`, ...importSummaryLines(summary)];
    if (summary.refused > 0) lines.push('Row 1 is the first row after the header. A refused row was not imported, not even in part.');
    if (summary.stopped) lines.push('Run the import again once that is fixed: the leads already imported are recognised, and not delivered twice.');
    return lines;
}

/** Progress on standard error: one line rewritten in place on a terminal, a line each time otherwise. */
function progressWriter(dryRun: boolean): { update(counts: ImportCounts): void; done(): void } {
    const tty = process.stderr.isTTY;
    let shown = false;
    return {
        update(counts) {
            const text = `Read ${counts.rows} row(s): ${countsText(counts, dryRun)}.`;
            process.stderr.write(tty ? `\r${text}\x1b[K` : `${text}\n`);
            shown = true;
        },
        done() {
            if (tty && shown) process.stderr.write('\n');
        },
    };
}

async function importCsv(s: Settings, file: string | undefined, dryRun: boolean, mapOptions: readonly string[]): Promise<number> {
    if (!file) {
        process.stderr.write('Give the CSV file to import: npm run leads -- import FILE.csv [--dry-run] [--map "Header=field" ...]\n');
        return 2;
    }
    const parsed = parseMaps(mapOptions);
    if ('error' in parsed) {
        process.stderr.write(`${parsed.error}\n`);
        return 2;
    }
    if (!existsSync(file)) {
        process.stderr.write(`There is no file "${file}".\n`);
        return 2;
    }
    const progress = progressWriter(dryRun);
    try {
        const summary = await importLeads(createReadStream(file), { settings: s, dryRun, map: parsed.map, onProgress: (counts) => progress.update(counts) });
        progress.done();
        for (const line of importReport(file, summary)) say(line);
        return summary.stopped || summary.refused > 0 ? 1 : 0;
    } catch (error) {
        progress.done();
        if (!(error instanceof HeaderError)) throw error;
        process.stderr.write(`${error.message}\n`);
        return 2;
    }
}

async function main(): Promise<number> {
    const { values, positionals } = parseArgs({
        allowPositionals: true,
        options: {
            days: { type: 'string' },
            csv: { type: 'boolean' },
            out: { type: 'string' },
            uncertain: { type: 'boolean' },
            'dry-run': { type: 'boolean' },
            map: { type: 'string', multiple: true },
            destination: { type: 'string' },
            post: { type: 'boolean' },
            settings: { type: 'string', default: join(root, 'local.settings.json') },
            help: { type: 'boolean', short: 'h' },
        },
    });
    const [command, argument] = positionals;
    if (values.help || !command) {
        process.stdout.write(`${usage}\n`);
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
        case 'check':
            return check(s, values.destination, values.post === true);
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
            if (values.out === '') {
                process.stderr.write('--out is empty: give the file to write the CSV to.\n');
                return 2;
            }
            await exportCsv(s, days ?? 365, values.out);
            return 0;
        case 'import':
            return importCsv(s, argument, values['dry-run'] === true, values.map ?? []);
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
