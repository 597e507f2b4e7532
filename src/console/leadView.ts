import type { DestinationName, Settings } from '../config/settings';
import { destinationsFor } from '../deliver/routing';
import { contactFor, type PiiMode } from '../notify/mask';
import { originInWords } from '../notify/words';
import type { AttentionEntry, AttentionState } from '../deliver/attentionIndex';
import type { DeliveryRecord, DeliveryState } from '../deliver/deliveryLog';
import { campaignOf } from '../store/campaignColumns';
import { customerOf, historyOf, type LeadEntity } from '../store/leadsTable';

/** One destination's state for a lead; `pending` also for a destination with no record yet. */
export interface DestinationState {
    destination: string;
    state: DeliveryState;
    /** Absent where the record was not read (a list shows the attention index's word, or the table's row). */
    attempts?: number;
    lastError?: string;
    failureKind?: string;
    target?: string;
    updatedAt?: string;
    completedAt?: string;
    poisoned: boolean;
    /** Why it needs attention, from the attention index, and when it is tried next. */
    attention?: AttentionState;
    nextTryAt?: string;
}

/** A lead as a list shows it: no contact details, only what tells leads apart. */
export interface LeadSummary {
    id: string;
    /** Where the page after this lead starts (its RowKey). */
    position: string;
    receivedAt: string;
    company: string;
    offer: string;
    origin: string;
    source: string;
    action: string;
    isTest: boolean;
    doNotContact: boolean;
    /** Absent for a lead listed from the attention index alone. */
    occurrences?: number;
    updated?: boolean;
    destinations: DestinationState[];
}

export interface LeadDetail extends LeadSummary {
    /** Label and value of every field, contact details as NOTIFY_PII allows. */
    fields: [string, string][];
    versions: { at: string; version: string; changed: string[] }[];
}

type RoutingSettings = Pick<Settings, 'LEAD_DESTINATIONS' | 'LEAD_ROUTES' | 'DNC_DESTINATIONS' | 'DELIVER_TEST_LEADS'>;

/** The destinations a row is routed to, as the settings say now. */
export function routedFor(row: LeadEntity, settings: RoutingSettings): readonly DestinationName[] {
    return destinationsFor({ offer: row.Offer, offerId: row.OfferId, offerTitle: row.OfferDisplayName, action: row.ActionCode, doNotContact: row.DoNotContact, isTest: row.IsTest }, settings);
}

/** A delivery as its record says; `pending` for a destination with no record yet. */
export function recordState(destination: string, record: DeliveryRecord | undefined): DestinationState {
    if (!record) return { destination, state: 'pending', attempts: 0, poisoned: false };
    const { state, attempts, lastError, failureKind, target, updatedAt, completedAt, poisoned } = record;
    return { destination, state, attempts, lastError, failureKind, target, updatedAt, completedAt, poisoned };
}

const entryStates: Record<AttentionState, (failed: boolean) => DeliveryState> = {
    retrying: () => 'failed',
    waiting: (failed) => (failed ? 'failed' : 'pending'),
    poisoned: () => 'failed',
    uncertain: () => 'uncertain',
    replayed: (failed) => (failed ? 'failed' : 'uncertain'),
};

/** A delivery as the attention index says: the record's state it stands for, why, and when it is tried next. */
export function entryState(entry: AttentionEntry): DestinationState {
    return {
        destination: entry.destination,
        state: entryStates[entry.state](entry.failed),
        lastError: entry.reason,
        updatedAt: entry.at,
        poisoned: entry.state === 'poisoned' || entry.state === 'uncertain',
        attention: entry.state,
        ...(entry.nextTryAt ? { nextTryAt: entry.nextTryAt } : {}),
    };
}

/** The destinations the lead is routed to, as the settings say now; with their records, and any others that have one; the attention index's word added. */
export function destinationStates(row: LeadEntity, records: readonly DeliveryRecord[], settings: RoutingSettings, entries: readonly AttentionEntry[] = []): DestinationState[] {
    const names = [...new Set<string>([...routedFor(row, settings), ...records.map((r) => r.destination), ...entries.map((e) => e.destination)])];
    return names.map((destination) => {
        const state = recordState(
            destination,
            records.find((r) => r.destination === destination),
        );
        const entry = entries.find((e) => e.destination === destination);
        return entry ? { ...state, attention: entry.state, ...(entry.nextTryAt ? { nextTryAt: entry.nextTryAt } : {}) } : state;
    });
}

/** A lead as the attention index knows it, for the views read from it: no row was read. */
export function entrySummary(entries: readonly AttentionEntry[], destinations: DestinationState[]): LeadSummary | undefined {
    const [first] = entries;
    if (!first) return undefined;
    return {
        id: first.leadId,
        position: entryPosition(first),
        receivedAt: first.receivedAt,
        company: first.company,
        offer: first.offer,
        origin: originInWords(first.source, first.action),
        source: first.source,
        action: first.action,
        isTest: first.isTest,
        doNotContact: first.doNotContact,
        destinations,
    };
}

/** Where an entry's lead sorts among the leads: its time and id, as a row key starts. */
export function entryPosition(entry: AttentionEntry): string {
    const time = Date.parse(entry.receivedAt);
    return `${Number.isNaN(time) ? entry.receivedAt : new Date(time).toISOString()}_${entry.leadId}`;
}

export function leadSummary(row: LeadEntity, destinations: DestinationState[]): LeadSummary {
    return {
        id: row.LeadId,
        position: row.rowKey,
        receivedAt: row.CreatedTime,
        company: customerOf(row).Company ?? '',
        offer: row.OfferDisplayName || row.Offer,
        origin: originInWords(row.Source, row.ActionCode),
        source: row.Source,
        action: row.ActionCode,
        isTest: row.IsTest,
        doNotContact: row.DoNotContact,
        occurrences: row.Occurrences,
        updated: Boolean(row.History),
        destinations,
    };
}

/** Everything about a lead, its contact details as NOTIFY_PII allows; the old values of earlier versions are never shown. */
export function leadDetail(row: LeadEntity, destinations: DestinationState[], pii: PiiMode): LeadDetail {
    const customer = customerOf(row);
    const contact = contactFor(pii, { firstName: customer.FirstName ?? '', lastName: customer.LastName ?? '', email: customer.Email ?? '', phone: customer.Phone ?? '' });
    const fields: [string, string][] = [
        ['Lead id', row.LeadId],
        ['Received', row.CreatedTime],
        ['Last seen', row.LastSeenAt],
        ['Times received', String(row.Occurrences)],
        ['Source', originInWords(row.Source, row.ActionCode)],
        ['Lead source', row.LeadSource],
        ['Offer', row.OfferDisplayName],
        ['Offer id', row.Offer],
        ['Publisher', row.PublisherId],
        ['Name', contact.name],
        ['E-mail', contact.email],
        ['Phone', contact.phone],
        ['Company', customer.Company ?? ''],
        ['Title', customer.Title ?? ''],
        ['Country', customer.Country ?? ''],
        // Free text the customer wrote: it may hold a phone number or a name.
        ['Description', pii === 'full' ? row.Description : row.Description ? 'hidden (NOTIFY_PII)' : ''],
        ...Object.entries(campaignOf(row)).map(([key, value]): [string, string] => [`Campaign ${key}`, value]),
        ['Test lead', row.IsTest ? 'yes' : 'no'],
        ['Do not contact', row.DoNotContact ? 'yes' : 'no'],
        ['Format', row.Format],
        // Fields the model does not know may hold anything, personal data included.
        ['Other fields', pii === 'full' ? (row.Extra ?? '') : row.Extra ? 'hidden (NOTIFY_PII)' : ''],
        ['Version', row.Version ?? ''],
    ];
    const versions = [...historyOf(row).map((entry) => ({ at: entry.at, version: entry.version, changed: entry.changed })), { at: row.VersionAt ?? row.CreatedTime, version: row.Version ?? '', changed: [] }];
    return { ...leadSummary(row, destinations), fields: fields.filter(([, value]) => value !== ''), versions };
}
