/** One group of a UTC day's leads: the same source, action and offer, test or not, imported or not. */
export interface LeadTally {
    day: string;
    source: string;
    action: string;
    offer: string;
    test: boolean;
    imported: boolean;
    count: number;
}

/** The columns of a lead's row the figures read: what a statistics query selects. */
export interface TalliedRow {
    partitionKey?: string;
    Source?: string;
    ActionCode?: string;
    OfferDisplayName?: string;
    Offer?: string;
    IsTest?: boolean;
    Imported?: boolean;
}

export const talliedColumns = ['PartitionKey', 'Source', 'ActionCode', 'OfferDisplayName', 'Offer', 'IsTest', 'Imported'];

type Packed = [day: string, source: string, action: string, offer: string, test: 0 | 1, imported: 0 | 1, count: number];

function pack(tally: LeadTally): Packed {
    return [tally.day, tally.source, tally.action, tally.offer, tally.test ? 1 : 0, tally.imported ? 1 : 0, tally.count];
}

function unpack([day, source, action, offer, test, imported, count]: Packed): LeadTally {
    return { day, source, action, offer, test: test === 1, imported: imported === 1, count };
}

/** The rows of a table, counted by day, source, action, offer, test and import. */
export function tallyRows(rows: Iterable<TalliedRow>): LeadTally[] {
    const groups = new Map<string, LeadTally>();
    for (const row of rows) {
        const tally: LeadTally = {
            day: row.partitionKey ?? '',
            source: row.Source ?? '',
            action: row.ActionCode ?? '',
            offer: row.OfferDisplayName || row.Offer || '',
            test: row.IsTest === true,
            imported: row.Imported === true,
            count: 1,
        };
        const key = JSON.stringify(pack({ ...tally, count: 0 }));
        const found = groups.get(key);
        if (found) found.count++;
        else groups.set(key, tally);
    }
    return [...groups.values()];
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
export function monthRow(month: string, through: string, tallies: readonly LeadTally[]): MonthRow | undefined {
    const json = JSON.stringify(tallies.map(pack));
    const parts = Math.ceil(json.length / partChars);
    if (parts > maxParts) return undefined;
    const row: MonthRow = { partitionKey: monthPartition, rowKey: month, Through: through, Parts: parts };
    for (let i = 0; i < parts; i++) row[`F${i}`] = json.slice(i * partChars, (i + 1) * partChars);
    return row;
}

/** A cached month's figures, or undefined when it is stale or not whole (written by something else, or cut short). */
export function monthFigures(row: MonthRow): { through: string; tallies: LeadTally[] } | undefined {
    if (row.Stale === true || !row.Through || row.Parts === undefined) return undefined;
    let json = '';
    for (let i = 0; i < row.Parts; i++) {
        const part = row[`F${i}`];
        if (typeof part !== 'string') return undefined;
        json += part;
    }
    try {
        const parsed: unknown = JSON.parse(json || '[]');
        return Array.isArray(parsed) ? { through: row.Through, tallies: (parsed as Packed[]).map(unpack) } : undefined;
    } catch {
        return undefined;
    }
}
