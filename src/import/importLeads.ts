import type { Settings } from '../config/settings';
import type { Lead } from '../lead/lead';
import { JsonQueue, MessageTooLargeError, StorageUnavailableError } from '../queue/jsonQueue';
import { leadMessageReserve } from '../queue/leadMessage';
import { encodeQueueMessage, maxQueueMessageLength } from '../queue/message';
import { lazy } from '../runtime/lazy';
import { AppLeads } from './appLeads';
import { HeaderError, planColumns, shownHeader, type ColumnPlan, type ImportField } from './columns';
import { csvRecords, CsvSyntaxError, type CsvRecord } from './csvRecords';
import { leadFromRow } from './rowLead';
import { isUpdateOf } from './update';
import { keepingItsOrder } from '../lead/version';

/** Where an import stands: rows read, and what became of them. */
export interface ImportCounts {
    rows: number;
    new: number;
    alreadyThere: number;
    updated: number;
    refused: number;
}

/** A row that was not imported: `row` 1 is the first data row after the header; `line` is the file's line where it starts. */
export interface Refusal {
    row: number;
    line: number;
    reason: string;
}

export interface ImportSummary extends ImportCounts {
    dryRun: boolean;
    /** The first refused rows, in file order: at most maxListedRefusals of `refused`. */
    refusals: Refusal[];
    /** The file's headers the import does not read, quoted, or by position where a header looks like data. */
    ignoredColumns: string[];
    /** Partner Center's analytics download: the headers of the columns kept in each lead's other fields (`extra`), quoted. */
    keptColumns?: string[];
    /** Why the import stopped before the end of the file (a CSV syntax error, storage down); the counts cover the rows before. */
    stopped?: { reason: string; line?: number };
}

export interface ImportOptions {
    settings: Pick<Settings, 'storage' | 'LEADS_QUEUE' | 'LEADS_TABLE' | 'DELIVERIES_TABLE'>;
    /** Decide, and report, but change nothing: storage is only read. */
    dryRun: boolean;
    /** Header → field, for columns the alias table does not know. */
    map?: Readonly<Record<string, string>>;
    /** Called every 1,000 rows and at least once a second while rows complete. */
    onProgress?: (counts: ImportCounts) => void;
    /** Rows looked up and enqueued at once. */
    concurrency?: number;
    /** The receipt time of rows without a creation time. */
    now?: Date;
}

export const maxListedRefusals = 100;

const progressRows = 1000;
const progressMs = 1000;

type Outcome = 'new' | 'alreadyThere' | 'updated';

function stopReason(error: unknown): string {
    if (error instanceof StorageUnavailableError) return `${error.message} (${error.cause instanceof Error ? error.cause.message : String(error.cause)})`;
    return `Reading the file or storage failed: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * Imports leads from CSV as it streams in (the app's own export or Partner Center's): each row
 * becomes the lead intake would make of it, and goes on LEADS_QUEUE unless the app already has
 * it, or has it with older content than the row's. At most `concurrency` rows are in flight, so
 * memory stays flat however long the file. Throws HeaderError when the header cannot be used;
 * anything after the header is reported in the summary.
 */
export async function importLeads(input: AsyncIterable<Uint8Array | string>, options: ImportOptions): Promise<ImportSummary> {
    const { settings, dryRun } = options;
    const summary: ImportSummary = { rows: 0, new: 0, alreadyThere: 0, updated: 0, refused: 0, dryRun, refusals: [], ignoredColumns: [] };
    const app = await AppLeads.connect(settings);
    const queue = lazy(() => JsonQueue.connect(settings.storage, settings.LEADS_QUEUE));
    const now = options.now ?? new Date();
    const inFlight = new Set<Promise<void>>();
    /** The version each lead id was given in this run: a row repeated in the file is already there. */
    const handled = new Map<string, string>();
    let plan: ColumnPlan | undefined;
    let carried: ImportField[] = [];
    let failure: unknown;
    let reported = Date.now();

    const progress = () => {
        const done = summary.new + summary.alreadyThere + summary.updated + summary.refused;
        if (!options.onProgress || (done % progressRows !== 0 && Date.now() - reported < progressMs)) return;
        reported = Date.now();
        const { rows, alreadyThere, updated, refused } = summary;
        options.onProgress({ rows, new: summary.new, alreadyThere, updated, refused });
    };
    const count = (outcome: Outcome) => {
        summary[outcome]++;
        progress();
    };
    const refuse = (record: CsvRecord, reason: string) => {
        summary.refused++;
        if (summary.refusals.length < maxListedRefusals) summary.refusals.push({ row: record.row, line: record.line, reason });
        progress();
    };

    const deliver = async (lead: Lead) => {
        // Its creation time in the file orders it among the lead's versions, not when this import ran.
        if (!dryRun) await (await queue()).send(keepingItsOrder(lead), { reserve: leadMessageReserve });
    };
    const handle = async (lead: Lead, timed: boolean, knownId: string | undefined, repeated: boolean): Promise<Outcome> => {
        // A lead without personal data is found by the id the file gives it; its content cannot be compared.
        if (knownId && (await app.find(knownId)).held) return 'alreadyThere';
        const held = await app.find(lead.id);
        // A row without its creation time takes the import's, which says nothing about whether it is newer.
        if (held.held && !(timed && held.row && isUpdateOf(lead, held.row, carried))) return 'alreadyThere';
        await deliver(lead);
        return held.held || repeated ? 'updated' : 'new';
    };

    const dispatch = (record: CsvRecord, columns: ColumnPlan) => {
        const result = leadFromRow(record.cells, columns, now);
        if (!result.ok) {
            refuse(record, result.reason);
            return;
        }
        const { lead } = result;
        // Checked here, not only by send, so that a dry run refuses what the queue would.
        const [length, limit] = [encodeQueueMessage(lead).length, maxQueueMessageLength - leadMessageReserve];
        if (length > limit) {
            refuse(record, new MessageTooLargeError(length, limit).message);
            return;
        }
        const earlier = handled.get(lead.id);
        if (earlier === lead.version) {
            count('alreadyThere');
            return;
        }
        handled.set(lead.id, lead.version);
        const task: Promise<void> = handle(lead, result.timed, result.knownId, earlier !== undefined)
            .then(count, (error: unknown) => {
                failure ??= error;
            })
            .finally(() => inFlight.delete(task));
        inFlight.add(task);
    };

    try {
        for await (const record of csvRecords(input)) {
            if (!plan) {
                plan = planColumns(record.cells, options.map);
                carried = Object.keys(plan.columns) as ImportField[];
                const header = record.cells;
                summary.ignoredColumns = plan.ignored.map((cell) => shownHeader(cell, header.indexOf(cell)));
                if (plan.kept) summary.keptColumns = plan.kept.map((column) => shownHeader(column.header, column.index));
                continue;
            }
            summary.rows++;
            dispatch(record, plan);
            if (inFlight.size >= (options.concurrency ?? 16)) await Promise.race(inFlight);
            if (failure !== undefined) break;
        }
    } catch (error) {
        if (error instanceof CsvSyntaxError) summary.stopped = { reason: error.message, line: error.line };
        else if (error instanceof HeaderError) throw error;
        else failure ??= error;
    }
    await Promise.all(inFlight);
    if (failure !== undefined) summary.stopped = { reason: stopReason(failure) };
    if (!plan && !summary.stopped) throw new HeaderError('The file is empty: it has no header row.');
    return summary;
}
