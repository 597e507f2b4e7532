import type { Settings } from '../config/settings';
import { canonicalAction } from '../lead/leadSource';
import { DeliveryLog } from '../store/deliveryLog';
import { customerOf, LeadsTable, parseRowKeys, type LeadEntity } from '../store/leadsTable';
import type { DayFigures } from '../store/dayFigures';
import { total } from './figures';
import { needsAttention, type Attention } from './attention';
import { healthOf, type Health } from './health';
import type { PiiMode } from '../notify/mask';
import type { LeadQuery } from './leadQuery';
import { destinationStates, leadDetail, leadSummary, type DestinationState, type LeadDetail, type LeadSummary } from './leadView';

/** A page reads at most this many rows looking for matches; past it, "More" goes on from where it stopped. */
const maxScannedPerPage = 5_000;
/** Rows whose deliveries are looked up at once, when the state filter needs them. */
const lookupBatch = 25;

/** How far a read went: rows read, the last one, and whether it stopped at its bound. */
interface Scan {
    count: number;
    max?: number;
    last?: string;
    capped?: boolean;
}

export interface LeadPage {
    items: LeadSummary[];
    /** Where the next page starts, when there may be more. */
    next?: string;
    /** Rows read for this page: more than the items when filters left rows out. */
    scanned: number;
}

const leadIdPattern = /^[0-9a-f]{32}$/;

function contains(haystack: string | undefined, needle: string): boolean {
    return (haystack ?? '').toLowerCase().includes(needle);
}

/**
 * The text search: company, offer or lead id containing the text, ignoring case; and the e-mail:
 * containing it with NOTIFY_PII=full, else only the whole address, so that searching cannot spell
 * out an address the page masks.
 */
function matchesText(row: LeadEntity, q: string | undefined, pii: PiiMode): boolean {
    if (!q) return true;
    const needle = q.toLowerCase();
    const customer = customerOf(row);
    const email = (customer.Email ?? '').toLowerCase();
    if (pii === 'full' ? email.includes(needle) : email !== '' && email === needle.trim()) return true;
    return [customer.Company, row.OfferDisplayName, row.Offer, row.LeadId].some((field) => contains(field, needle));
}

function matchesOffer(row: LeadEntity, offer: string | undefined): boolean {
    return !offer || contains(row.OfferDisplayName, offer.toLowerCase()) || contains(row.Offer, offer.toLowerCase());
}

/** The conditions the table service applies itself: the action code, exactly as the lead model writes it, and no test leads when they are hidden. */
function tableFilter(query: LeadQuery): string | undefined {
    const conditions = [query.action ? `ActionCode eq '${canonicalAction(query.action).replace(/'/g, "''")}'` : '', query.hideTest ? 'IsTest eq false' : ''].filter(Boolean);
    return conditions.length ? conditions.join(' and ') : undefined;
}

/** What the console reads: the leads table and the delivery records, by their keys. */
export class ConsoleData {
    constructor(
        private readonly settings: Settings,
        private readonly leads: LeadsTable,
        private readonly log: DeliveryLog,
    ) {}

    static async connect(settings: Settings): Promise<ConsoleData> {
        const [leads, log] = await Promise.all([LeadsTable.connect(settings.storage, settings.LEADS_TABLE), DeliveryLog.connect(settings.storage, settings.DELIVERIES_TABLE)]);
        return new ConsoleData(settings, leads, log);
    }

    private async destinationsOf(row: LeadEntity): Promise<DestinationState[]> {
        return destinationStates(row, await this.log.list(row.LeadId), this.settings);
    }

    /** A lead's row: where its table delivery says it is, else looked for in the last year's partitions. */
    async findRow(leadId: string): Promise<LeadEntity | undefined> {
        if (!leadIdPattern.test(leadId)) return undefined;
        const table = (await this.log.list(leadId)).find((record) => record.destination === 'table');
        const keys = table?.target ? parseRowKeys(table.target) : await this.leads.findLead(leadId, new Date(Date.now() - 366 * 86_400_000).toISOString().slice(0, 10));
        return keys && (await this.leads.row(keys));
    }

    attention(): Promise<Attention> {
        return needsAttention(this.settings, this.log);
    }

    health(poisonCount: number): Promise<Health> {
        return healthOf(this.settings, this.leads, this.log, poisonCount);
    }

    /** The figures of the days from the first to the last (UTC), both included. */
    figures(fromDay: string, toDay: string): Promise<DayFigures[]> {
        return this.leads.stats.figures(fromDay, toDay);
    }

    /** How many leads the query's days hold, test leads left out when it hides them. */
    async count(query: LeadQuery): Promise<number> {
        return total(await this.figures(query.fromDay, query.toDay), { hideTest: query.hideTest });
    }

    async detail(leadId: string): Promise<LeadDetail | undefined> {
        const row = await this.findRow(leadId);
        return row && leadDetail(row, await this.destinationsOf(row), this.settings.NOTIFY_PII);
    }

    /**
     * The rows that pass the filters on the lead's own columns, newest first, a lookup batch at a
     * time, as they are read: the state filter, which needs the deliveries, is left to the caller.
     */
    private async *candidates(query: LeadQuery, scan: Scan): AsyncGenerator<LeadEntity[]> {
        if (query.q && leadIdPattern.test(query.q)) {
            const row = await this.findRow(query.q);
            const inRange = row && row.partitionKey >= query.fromDay && row.partitionKey <= query.toDay && (!query.before || row.rowKey < query.before);
            if (row && inRange && matchesOffer(row, query.offer) && (!query.action || row.ActionCode === canonicalAction(query.action)) && !(query.hideTest && row.IsTest)) yield [row];
            return;
        }
        let batch: LeadEntity[] = [];
        for await (const row of this.leads.newest({ fromDay: query.fromDay, toDay: query.toDay, before: query.before, filter: tableFilter(query) })) {
            scan.count++;
            scan.last = row.rowKey;
            if (matchesText(row, query.q, this.settings.NOTIFY_PII) && matchesOffer(row, query.offer)) batch.push(row);
            if (batch.length >= lookupBatch) {
                yield batch;
                batch = [];
            }
            if (scan.max !== undefined && scan.count >= scan.max) {
                scan.capped = true;
                break;
            }
        }
        if (batch.length > 0) yield batch;
    }

    /** The rows with their destinations' states, looked up at once, that pass the state filter. */
    private async matches(rows: readonly LeadEntity[], query: LeadQuery): Promise<{ row: LeadEntity; destinations: DestinationState[] }[]> {
        const looked = await Promise.all(rows.map(async (row) => ({ row, destinations: await this.destinationsOf(row) })));
        return looked.filter((found) => !query.state || found.destinations.some((d) => d.state === query.state));
    }

    /** The rows that match the filters, newest first, with their destinations' states; unbounded. */
    async *matching(query: LeadQuery, scan: Scan = { count: 0 }): AsyncGenerator<{ row: LeadEntity; destinations: DestinationState[] }> {
        for await (const batch of this.candidates(query, scan)) yield* await this.matches(batch, query);
    }

    /** The rows that match the filters, newest first (the export reads them all): their deliveries are read only when the state filter needs them. */
    async *matchingRows(query: LeadQuery): AsyncGenerator<LeadEntity> {
        if (query.state) {
            for await (const { row } of this.matching(query)) yield row;
            return;
        }
        for await (const batch of this.candidates(query, { count: 0 })) yield* batch;
    }

    /** One page of the list: `limit` leads at most, and where the next page starts. */
    async page(query: LeadQuery): Promise<LeadPage> {
        const scan: Scan = { count: 0, max: maxScannedPerPage };
        const items: LeadSummary[] = [];
        let full = false;
        for await (const batch of this.candidates(query, scan)) {
            const room = query.limit - items.length;
            // Without a state filter every row of the batch matches: only those the page shows need their deliveries, and one more says a next page starts after them.
            const found = await this.matches(query.state ? batch : batch.slice(0, room), query);
            for (const { row, destinations } of found.slice(0, room)) items.push(leadSummary(row, destinations));
            if ((query.state ? found.length : batch.length) > room) {
                full = true;
                break;
            }
        }
        const next = full ? items[items.length - 1]?.position : scan.capped ? scan.last : undefined;
        return { items, scanned: scan.count, ...(next ? { next } : {}) };
    }
}
