import type { Settings } from '../config/settings';
import { canonicalAction } from '../lead/leadSource';
import { AttentionIndex, type AttentionEntry } from '../deliver/attentionIndex';
import { DeliveryLog } from '../deliver/deliveryLog';
import { isEmailAddress } from '../store/emailIndex';
import { customerOf, LeadsTable, parseRowKeys, type LeadEntity } from '../store/leadsTable';
import type { DayFigures } from '../store/dayFigures';
import { total } from './figures';
import { needsAttention, type Attention } from './attention';
import { healthOf, type Health } from './health';
import type { PiiMode } from '../notify/mask';
import { isAttentionFilter, type AttentionFilter, type LeadQuery } from './leadQuery';
import { destinationStates, entryPosition, entryState, entrySummary, leadDetail, leadSummary, recordState, routedFor, type DestinationState, type LeadDetail, type LeadSummary } from './leadView';

/** A page reads at most this many rows looking for matches; past it, "More" goes on from where it stopped. */
const maxScannedPerPage = 5_000;

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
    /**
     * The read stopped at its bound before the range was examined: rows were looked through back to
     * this time, and more may match before it (from `next` on). Absent when the page is full or the
     * whole range was examined, so that "no match" is said only when it is true.
     */
    lookedBackTo?: string;
}

/** Which entries each attention filter takes. */
const attentionMatch: Record<AttentionFilter, (entry: AttentionEntry) => boolean> = {
    failed: (entry) => entry.failed,
    uncertain: (entry) => entry.state === 'uncertain',
    waiting: (entry) => entry.state === 'waiting',
    poisoned: (entry) => entry.state === 'poisoned' || entry.state === 'uncertain',
};

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
        private readonly index: AttentionIndex,
    ) {}

    static async connect(settings: Settings): Promise<ConsoleData> {
        const [leads, log, index] = await Promise.all([
            LeadsTable.connect(settings.storage, settings.LEADS_TABLE),
            DeliveryLog.connect(settings.storage, settings.DELIVERIES_TABLE),
            AttentionIndex.connect(settings.storage, settings.DELIVERIES_TABLE),
        ]);
        return new ConsoleData(settings, leads, log, index);
    }

    /**
     * A listed row's deliveries: the attention index's word where it has one; the table's is the
     * row itself; each other destination's record by a point read (keys: lead, destination).
     */
    private async listedStates(leadId: string, routed: readonly string[], entries: readonly AttentionEntry[]): Promise<DestinationState[]> {
        const names = [...new Set([...routed, ...entries.map((e) => e.destination)])];
        return Promise.all(
            names.map(async (destination) => {
                const entry = entries.find((e) => e.destination === destination);
                if (entry) return entryState(entry);
                if (destination === 'table') return { destination, state: 'delivered' as const, poisoned: false };
                return recordState(destination, await this.log.get(leadId, destination));
            }),
        );
    }

    /** The attention index by lead: one query of a table as small as the trouble. */
    private async entriesByLead(): Promise<Map<string, AttentionEntry[]>> {
        const byLead = new Map<string, AttentionEntry[]>();
        for (const entry of await this.index.list()) byLead.set(entry.leadId, [...(byLead.get(entry.leadId) ?? []), entry]);
        return byLead;
    }

    /** A lead's row: where its table delivery says it is (a point read), else looked for in the last year's partitions. */
    async findRow(leadId: string): Promise<LeadEntity | undefined> {
        if (!leadIdPattern.test(leadId)) return undefined;
        const table = await this.log.get(leadId, 'table');
        const keys = table?.target ? parseRowKeys(table.target) : await this.leads.findLead(leadId, new Date(Date.now() - 366 * 86_400_000).toISOString().slice(0, 10));
        return keys && (await this.leads.row(keys));
    }

    async attention(): Promise<Attention> {
        return needsAttention(this.settings, await this.index.list());
    }

    health(attention: Attention): Promise<Health> {
        return healthOf(this.settings, this.leads, attention);
    }

    /** The figures of the days from the first to the last (UTC), both included. */
    figures(fromDay: string, toDay: string): Promise<DayFigures[]> {
        return this.leads.stats.figures(fromDay, toDay);
    }

    /** How many leads the query's days hold, test leads left out when it hides them. */
    async count(query: LeadQuery): Promise<number> {
        return total(await this.figures(query.fromDay, query.toDay), { hideTest: query.hideTest });
    }

    /** Everything about one lead: all its delivery records (one partition), with the attention index's word. */
    async detail(leadId: string): Promise<LeadDetail | undefined> {
        const row = await this.findRow(leadId);
        if (!row) return undefined;
        const [records, entries] = await Promise.all([this.log.list(row.LeadId), this.index.list()]);
        const mine = entries.filter((entry) => entry.leadId === row.LeadId);
        return leadDetail(row, destinationStates(row, records, this.settings, mine), this.settings.NOTIFY_PII);
    }

    /** The rows of the leads with the searched address, by the e-mail index: one point read, then one a lead. */
    private async rowsByEmail(address: string): Promise<LeadEntity[]> {
        const rows = await Promise.all((await this.leads.emails.rows(address)).map((ref) => this.leads.row(parseRowKeys(ref))));
        const wanted = address.trim().toLowerCase();
        // An entry may point at a row that never came, or whose address a later version changed.
        return rows.filter((row): row is LeadEntity => row !== undefined && (customerOf(row).Email ?? '').trim().toLowerCase() === wanted).sort((a, b) => (a.rowKey < b.rowKey ? 1 : -1));
    }

    /**
     * The rows that pass the filters on the lead's own columns, newest first, a page and one more at
     * a time, as they are read: the state filter, which needs the deliveries, is left to the caller.
     * A lead id or a whole e-mail address is looked up by its keys, at any size.
     */
    private async *candidates(query: LeadQuery, scan: Scan): AsyncGenerator<LeadEntity[]> {
        const inRange = (row: LeadEntity) => row.partitionKey >= query.fromDay && row.partitionKey <= query.toDay && (!query.before || row.rowKey < query.before);
        const onColumns = (row: LeadEntity) => inRange(row) && matchesOffer(row, query.offer) && (!query.action || row.ActionCode === canonicalAction(query.action)) && !(query.hideTest && row.IsTest);
        if (query.q && (leadIdPattern.test(query.q) || isEmailAddress(query.q))) {
            const rows = leadIdPattern.test(query.q) ? [await this.findRow(query.q)].filter((row): row is LeadEntity => row !== undefined) : await this.rowsByEmail(query.q);
            scan.count += rows.length;
            yield rows.filter(onColumns);
            return;
        }
        let batch: LeadEntity[] = [];
        for await (const row of this.leads.newest({ fromDay: query.fromDay, toDay: query.toDay, before: query.before, filter: tableFilter(query), want: query.limit + 1 })) {
            scan.count++;
            scan.last = row.rowKey;
            if (matchesText(row, query.q, this.settings.NOTIFY_PII) && matchesOffer(row, query.offer)) batch.push(row);
            // A page's worth and one more at a time: a page's deliveries are looked up at once.
            if (batch.length > query.limit) {
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
    private async matches(rows: readonly LeadEntity[], query: LeadQuery, entries: Promise<Map<string, AttentionEntry[]>>): Promise<{ row: LeadEntity; destinations: DestinationState[] }[]> {
        const byLead = await entries;
        const looked = await Promise.all(rows.map(async (row) => ({ row, destinations: await this.listedStates(row.LeadId, routedFor(row, this.settings), byLead.get(row.LeadId) ?? []) })));
        return looked.filter((found) => !query.state || found.destinations.some((d) => d.state === query.state));
    }

    /** The leads the attention index holds for an attention filter, newest first, with the other filters applied. */
    private async attentionLeads(query: LeadQuery & { state: AttentionFilter }): Promise<{ entries: AttentionEntry[]; position: string }[]> {
        const byLead = await this.entriesByLead();
        const ids = query.q && isEmailAddress(query.q) ? new Set((await this.rowsByEmail(query.q)).map((row) => row.LeadId)) : undefined;
        const needle = query.q?.toLowerCase();
        const offer = query.offer?.toLowerCase();
        const action = query.action && canonicalAction(query.action);
        const matches = (entry: AttentionEntry, position: string): boolean => {
            const day = position.slice(0, 10);
            if (day < query.fromDay || day > query.toDay || (query.before && position >= query.before)) return false;
            if ((offer && !contains(entry.offer, offer) && !contains(entry.offerId, offer)) || (action && entry.action !== action)) return false;
            if (ids) return ids.has(entry.leadId);
            return !needle || [entry.company, entry.offer, entry.offerId, entry.leadId].some((field) => contains(field, needle));
        };
        return [...byLead.values()]
            .filter((entries) => entries.some(attentionMatch[query.state]))
            .map((entries) => ({ entries, position: entries[0] ? entryPosition(entries[0]) : '' }))
            .filter(({ entries, position }) => entries[0] !== undefined && matches(entries[0], position))
            .sort((a, b) => (a.position < b.position ? 1 : -1));
    }

    /**
     * A page of an attention filter: read from the index whole, so it is complete at any size, and
     * nothing else: each lead shows its deliveries in trouble; its page shows them all.
     */
    private async attentionPage(query: LeadQuery & { state: AttentionFilter }): Promise<LeadPage> {
        const leads = await this.attentionLeads(query);
        const shown = leads.slice(0, query.limit);
        const items = shown.map(({ entries }) => entrySummary(entries, entries.map(entryState)));
        const next = leads.length > shown.length ? shown[shown.length - 1]?.position : undefined;
        return { items: items.filter((item): item is LeadSummary => item !== undefined), scanned: leads.length, ...(next ? { next } : {}) };
    }

    /** The rows that match the filters, newest first, with their destinations' states; unbounded. */
    async *matching(query: LeadQuery, scan: Scan = { count: 0 }): AsyncGenerator<{ row: LeadEntity; destinations: DestinationState[] }> {
        const entries = this.entriesByLead();
        for await (const batch of this.candidates(query, scan)) yield* await this.matches(batch, query, entries);
    }

    /** The rows that match the filters, newest first (the export reads them all): their deliveries are read only when the state filter needs them. */
    async *matchingRows(query: LeadQuery): AsyncGenerator<LeadEntity> {
        const state = query.state;
        if (isAttentionFilter(state)) {
            for (const { entries } of await this.attentionLeads({ ...query, state })) {
                const row = entries[0] && (await this.findRow(entries[0].leadId));
                if (row) yield row;
            }
            return;
        }
        if (state) {
            for await (const { row } of this.matching(query)) yield row;
            return;
        }
        for await (const batch of this.candidates(query, { count: 0 })) yield* batch;
    }

    /** One page of the list: `limit` leads at most, and where the next page starts. */
    async page(query: LeadQuery): Promise<LeadPage> {
        const state = query.state;
        if (isAttentionFilter(state)) return this.attentionPage({ ...query, state });
        const scan: Scan = { count: 0, max: maxScannedPerPage };
        const items: LeadSummary[] = [];
        // Read beside the leads: on a healthy app the index is empty, on a bad day as small as the trouble.
        const entries = this.entriesByLead();
        entries.catch(() => undefined);
        let full = false;
        for await (const batch of this.candidates(query, scan)) {
            const room = query.limit - items.length;
            // Without a state filter every row of the batch matches: only those the page shows need their deliveries, and one more says a next page starts after them.
            const found = await this.matches(state ? batch : batch.slice(0, room), query, entries);
            for (const { row, destinations } of found.slice(0, room)) items.push(leadSummary(row, destinations));
            if ((state ? found.length : batch.length) > room) {
                full = true;
                break;
            }
        }
        const next = full ? items[items.length - 1]?.position : scan.capped ? scan.last : undefined;
        const lookedBackTo = !full && scan.capped && scan.last ? scan.last.slice(0, 24) : undefined;
        return { items, scanned: scan.count, ...(next ? { next } : {}), ...(lookedBackTo ? { lookedBackTo } : {}) };
    }
}
