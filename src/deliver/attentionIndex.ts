import type { Lead } from '../lead/lead';
import { statusOf, tableClientFor, TableStore } from '../storage/clients';
import type { StorageConnection } from '../storage/connection';

/**
 * Why a delivery needs a person's eye: it failed and is tried again (`retrying`), it waits behind
 * its destination's open circuit (`waiting`), it gave up (`poisoned`), its fate is unknown
 * (`uncertain`, in the poison queue too), or a person sent it back and it waits for its turn (`replayed`).
 */
export type AttentionState = 'retrying' | 'waiting' | 'poisoned' | 'uncertain' | 'replayed';

/** One delivery of one lead that is not done well, with what the console shows of it. */
export interface AttentionEntry {
    leadId: string;
    destination: string;
    state: AttentionState;
    /** An attempt of this delivery failed (a lead waiting behind the circuit may not have been tried yet). */
    failed: boolean;
    reason: string;
    /** When the delivery is tried next, if it is. */
    nextTryAt?: string;
    /** When this entry was written. */
    at: string;
    /** The lead as its message had it: when it came, and what the list shows and filters on. */
    receivedAt: string;
    company: string;
    offer: string;
    offerId: string;
    source: string;
    action: string;
    isTest: boolean;
    doNotContact: boolean;
    /** The lead's row in LEADS_TABLE (`partition/row`), when the writer knew it. */
    leadRow?: string;
}

interface AttentionEntity {
    partitionKey: string;
    rowKey: string;
    State: AttentionState;
    Failed: boolean;
    Reason: string;
    NextTryAt?: string;
    At: string;
    ReceivedAt: string;
    Company: string;
    Offer: string;
    OfferId: string;
    Source: string;
    Action: string;
    IsTest: boolean;
    DoNotContact: boolean;
    LeadRow?: string;
}

/** `<DELIVERIES_TABLE>Attention`. */
export function attentionTableName(deliveriesTable: string): string {
    return `${deliveriesTable}Attention`;
}

/** What a writer knows of the delivery besides the lead. */
export interface AttentionMark {
    state: AttentionState;
    failed: boolean;
    reason: string;
    nextTryAt?: Date;
    leadRow?: string;
}

function toEntry(entity: AttentionEntity): AttentionEntry {
    return {
        leadId: entity.rowKey,
        destination: entity.partitionKey,
        state: entity.State,
        failed: entity.Failed,
        reason: entity.Reason,
        ...(entity.NextTryAt ? { nextTryAt: entity.NextTryAt } : {}),
        at: entity.At,
        receivedAt: entity.ReceivedAt,
        company: entity.Company,
        offer: entity.Offer,
        offerId: entity.OfferId,
        source: entity.Source,
        action: entity.Action,
        isTest: entity.IsTest,
        doNotContact: entity.DoNotContact,
        ...(entity.LeadRow ? { leadRow: entity.LeadRow } : {}),
    };
}

/**
 * The deliveries that need attention, one row each: PartitionKey the destination, RowKey the lead
 * id, so that a writer on the delivery path knows the keys without a read. Written only on the
 * failure paths and deleted when the delivery succeeds after one, it stays as small as the
 * trouble, and the console reads all of it in one query, however many leads the app holds.
 */
export class AttentionIndex extends TableStore {
    static async connect(connection: StorageConnection | string, deliveriesTable: string): Promise<AttentionIndex> {
        return new AttentionIndex(await tableClientFor(connection, attentionTableName(deliveriesTable)));
    }

    /** Writes where this delivery stands, replacing what was there. */
    async mark(lead: Lead, destination: string, mark: AttentionMark, now = new Date()): Promise<void> {
        await this.ensureTable();
        const entity: AttentionEntity = {
            partitionKey: destination,
            rowKey: lead.id,
            State: mark.state,
            Failed: mark.failed,
            Reason: mark.reason.slice(0, 2000),
            ...(mark.nextTryAt ? { NextTryAt: mark.nextTryAt.toISOString() } : {}),
            At: now.toISOString(),
            ReceivedAt: lead.receivedAt,
            Company: lead.customer.company.slice(0, 500),
            Offer: (lead.offerTitle || lead.offer).slice(0, 500),
            OfferId: lead.offer.slice(0, 500),
            Source: lead.source,
            Action: lead.action,
            IsTest: lead.isTest,
            DoNotContact: lead.doNotContact,
            ...(mark.leadRow ? { LeadRow: mark.leadRow } : {}),
        };
        await this.client.upsertEntity(entity, 'Replace');
    }

    /** The delivery is done: its entry goes, if it had one. */
    async clear(leadId: string, destination: string): Promise<void> {
        try {
            await this.client.deleteEntity(destination, leadId);
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
        }
    }

    /** Every entry: the index holds only deliveries in trouble, so this is one small query. */
    async list(): Promise<AttentionEntry[]> {
        const entries: AttentionEntry[] = [];
        try {
            for await (const entity of this.client.listEntities<AttentionEntity>()) entries.push(toEntry(entity));
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
        }
        return entries;
    }
}
