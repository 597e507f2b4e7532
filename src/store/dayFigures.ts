/**
 * How many leads: all of them, the test leads, the imported ones, and those both test and imported,
 * so that either kind, or both, can be left out exactly.
 */
export type Count = [all: number, test: number, imported: number, testImported: number];

export const dimensions = ['source', 'action', 'offer'] as const;
export type Dimension = (typeof dimensions)[number];

/** A UTC day's leads, counted in all and by source, by action and by offer (each as stored). */
export interface DayFigures {
    day: string;
    leads: Count;
    by: Record<Dimension, Map<string, Count>>;
}

/** The columns of a lead's row the figures read: what a statistics query selects. */
export interface CountedRow {
    partitionKey?: string;
    Source?: string;
    ActionCode?: string;
    OfferDisplayName?: string;
    Offer?: string;
    IsTest?: boolean;
    Imported?: boolean;
}

export const countedColumns = ['PartitionKey', 'Source', 'ActionCode', 'OfferDisplayName', 'Offer', 'IsTest', 'Imported'];

function emptyDay(day: string): DayFigures {
    return { day, leads: [0, 0, 0, 0], by: { source: new Map(), action: new Map(), offer: new Map() } };
}

function add(count: Count, test: boolean, imported: boolean): void {
    count[0]++;
    if (test) count[1]++;
    if (imported) count[2]++;
    if (test && imported) count[3]++;
}

/** The rows of a table, counted by day, oldest day first. */
export function figuresOf(rows: Iterable<CountedRow>): DayFigures[] {
    const days = new Map<string, DayFigures>();
    for (const row of rows) {
        const day = row.partitionKey ?? '';
        const figures = days.get(day) ?? emptyDay(day);
        days.set(day, figures);
        const test = row.IsTest === true;
        const imported = row.Imported === true;
        add(figures.leads, test, imported);
        const keys: Record<Dimension, string> = { source: row.Source ?? '', action: row.ActionCode ?? '', offer: row.OfferDisplayName || row.Offer || '' };
        for (const dimension of dimensions) {
            const map = figures.by[dimension];
            const count = map.get(keys[dimension]) ?? [0, 0, 0, 0];
            map.set(keys[dimension], count);
            add(count, test, imported);
        }
    }
    return [...days.values()].sort((a, b) => (a.day < b.day ? -1 : 1));
}

type Packed = [day: string, leads: Count, source: [string, Count][], action: [string, Count][], offer: [string, Count][]];

function pack(figures: DayFigures): Packed {
    return [figures.day, figures.leads, [...figures.by.source], [...figures.by.action], [...figures.by.offer]];
}

function unpack([day, leads, source, action, offer]: Packed): DayFigures {
    return { day, leads, by: { source: new Map(source), action: new Map(action), offer: new Map(offer) } };
}

/** Azure Tables keeps at most 32 K characters in a string property and 1 MiB in a row: figures longer than this are not cached. */
const partChars = 30_000;
const maxParts = 12;

/** A cached month in `<LEADS_TABLE>Stats`: its figures through a day, as JSON split over properties F0, F1, …. */
export interface MonthRow {
    partitionKey: string;
    rowKey: string;
    /** The last day the figures cover: the month's last, or the last before yesterday when it was written. */
    Through?: string;
    Parts?: number;
    /** Set when a lead was stored in a day the figures cover after they were counted: they are counted again. */
    Stale?: boolean;
    etag?: string;
    [part: `F${number}`]: string | undefined;
}

export const monthPartition = 'month';

/** The row caching a month's figures through a day; undefined when they are too long to keep in a row. */
export function monthRow(month: string, through: string, figures: readonly DayFigures[]): MonthRow | undefined {
    const json = JSON.stringify(figures.map(pack));
    const parts = Math.ceil(json.length / partChars);
    if (parts > maxParts) return undefined;
    const row: MonthRow = { partitionKey: monthPartition, rowKey: month, Through: through, Parts: parts };
    for (let i = 0; i < parts; i++) row[`F${i}`] = json.slice(i * partChars, (i + 1) * partChars);
    return row;
}

/** A cached month's figures, or undefined when it is stale or not whole (written by something else, or cut short). */
export function monthFigures(row: MonthRow): { through: string; figures: DayFigures[] } | undefined {
    if (row.Stale === true || !row.Through || row.Parts === undefined) return undefined;
    let json = '';
    for (let i = 0; i < row.Parts; i++) {
        const part = row[`F${i}`];
        if (typeof part !== 'string') return undefined;
        json += part;
    }
    try {
        const parsed: unknown = JSON.parse(json || '[]');
        return Array.isArray(parsed) ? { through: row.Through, figures: (parsed as Packed[]).map(unpack) } : undefined;
    } catch {
        return undefined;
    }
}
