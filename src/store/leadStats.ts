import type { TableClient } from '@azure/data-tables';
import { statusOf, tableCreator } from '../storage/clients';
import { countedColumns, figuresOf, monthFigures, monthPartition, monthRow, type CountedRow, type DayFigures, type MonthRow } from './dayFigures';
import { addDays, dayOf, lastDayOfMonth, monthAfter, monthOf } from './utcDays';

/** `<LEADS_TABLE>Stats`: the figures of past months, one row a month. */
export function statsTableName(leadsTable: string): string {
    return `${leadsTable}Stats`;
}

/**
 * The first day whose figures are counted afresh at every read: yesterday (UTC). A lead is stored
 * under the day it arrives; a day of margin keeps a late write from an instance whose clock lags,
 * or a lead that arrived just before midnight, out of a cached day.
 */
export function firstLiveDay(now: Date): string {
    return addDays(dayOf(now.getTime()), -1);
}

/** Cached months written at once: a first read far back writes a row for each month of the range. */
const writesAtOnce = 8;

function earlier(a: string, b: string): string {
    return a < b ? a : b;
}

function odata(text: string): string {
    return `'${text.replace(/'/g, "''")}'`;
}

/** The months, in order, cut where one does not follow the other. */
function runsOf(months: readonly string[]): string[][] {
    const runs: string[][] = [];
    for (const month of months) {
        const run = runs[runs.length - 1];
        if (run && monthAfter(run[run.length - 1] ?? '') === month) run.push(month);
        else runs.push([month]);
    }
    return runs;
}

/**
 * Leads per day by source, action and offer, exact at any size. Yesterday's and today's are
 * counted from their partitions at each read (only the columns the figures need); earlier months'
 * are counted once and kept in the stats table. A lead stored in, or changed in, a day before
 * yesterday marks its month stale (LeadsTable does it as it writes), so a kept month is never
 * out of date. Every cached row is written only if nobody marked it since it was read: a count
 * racing a late insert is dropped, not kept.
 */
export class LeadStats {
    private readonly ensureStats: () => Promise<void>;

    constructor(
        private readonly leads: TableClient,
        private readonly stats: TableClient,
    ) {
        this.ensureStats = tableCreator(stats);
    }

    /** After a row of a day was stored or changed: a day before yesterday has its month counted again at the next read. */
    async changed(day: string, now = new Date()): Promise<void> {
        if (day >= firstLiveDay(now)) return;
        await this.ensureStats();
        await this.stats.upsertEntity({ partitionKey: monthPartition, rowKey: monthOf(day), Stale: true }, 'Replace');
    }

    /** The figures of the days from the first to the last, both included. */
    async figures(fromDay: string, toDay: string, now = new Date()): Promise<DayFigures[]> {
        const live = firstLiveDay(now);
        const keptTo = earlier(toDay, addDays(live, -1));
        const [kept, recent] = await Promise.all([fromDay <= keptTo ? this.kept(fromDay, keptTo) : [], toDay >= live ? this.count(fromDay > live ? fromDay : live, toDay) : []]);
        return [...kept, ...recent].filter((figures) => figures.day >= fromDay && figures.day <= toDay);
    }

    /** The rows of the days from the first to the last, counted: one range query of a few columns. */
    private async count(first: string, last: string): Promise<DayFigures[]> {
        const rows: CountedRow[] = [];
        const filter = `PartitionKey ge ${odata(first)} and PartitionKey le ${odata(last)}`;
        try {
            for await (const row of this.leads.listEntities<CountedRow>({ queryOptions: { filter, select: countedColumns } })) rows.push(row);
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
        }
        return figuresOf(rows);
    }

    /** The figures of whole months through a day before yesterday: from the stats table, the months it lacks counted and kept. */
    private async kept(fromDay: string, lastDay: string): Promise<DayFigures[]> {
        await this.ensureStats();
        const [first, last] = [monthOf(fromDay), monthOf(lastDay)];
        const rows = new Map<string, MonthRow>();
        const filter = `PartitionKey eq '${monthPartition}' and RowKey ge ${odata(first)} and RowKey le ${odata(last)}`;
        for await (const row of this.stats.listEntities<MonthRow>({ queryOptions: { filter } })) rows.set(row.rowKey, row);
        const found: DayFigures[] = [];
        const missing: string[] = [];
        for (let month = first; month <= last; month = monthAfter(month)) {
            const row = rows.get(month);
            const figures = row && monthFigures(row);
            if (figures && figures.through >= earlier(lastDayOfMonth(month), lastDay)) found.push(...figures.figures);
            else missing.push(month);
        }
        for (const run of runsOf(missing)) found.push(...(await this.fill(run, lastDay, rows)));
        return found;
    }

    /** Counts months that follow one another in one query, and keeps each. */
    private async fill(months: readonly string[], lastDay: string, read: ReadonlyMap<string, MonthRow>): Promise<DayFigures[]> {
        const through = (month: string) => earlier(lastDayOfMonth(month), lastDay);
        const counted = await this.count(`${months[0] ?? ''}-01`, through(months[months.length - 1] ?? ''));
        const byMonth = new Map<string, DayFigures[]>();
        for (const day of counted) byMonth.set(monthOf(day.day), [...(byMonth.get(monthOf(day.day)) ?? []), day]);
        for (let at = 0; at < months.length; at += writesAtOnce) {
            await Promise.all(months.slice(at, at + writesAtOnce).map((month) => this.keep(month, through(month), byMonth.get(month) ?? [], read.get(month)?.etag)));
        }
        return counted;
    }

    /** Writes a month's figures unless its row changed since it was read (a newer count, or a late insert marking it stale). */
    private async keep(month: string, through: string, figures: readonly DayFigures[], etag: string | undefined): Promise<void> {
        const row = monthRow(month, through, figures);
        if (!row) return;
        try {
            if (etag) await this.stats.updateEntity(row, 'Replace', { etag });
            else await this.stats.createEntity(row);
        } catch (error) {
            if (statusOf(error) !== 409 && statusOf(error) !== 412) throw error;
        }
    }
}
