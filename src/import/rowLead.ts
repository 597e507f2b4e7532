import { createHash } from 'node:crypto';
import { customerFields, type LeadField } from '../lead/fields';
import { isAnonymous } from '../lead/identity';
import { importReceiptPrefix, referralReceiptPrefix, type Lead } from '../lead/lead';
import { parseLeadSource, splitOffer } from '../lead/leadSource';
import { normalizeLead } from '../lead/normalize';
import type { RawLead } from '../lead/rawLead';
import type { ColumnPlan, ImportField } from './columns';
import { parseCreatedTime } from './createdTime';
import { splitCustomerName } from './customerName';
import { asCodes } from './partnerCenterWords';

/** Undoes csvCell's defusing of formula cells: the `'` it put before `= + - @`, a tab or a CR. */
export function undefused(cell: string): string {
    return /^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell;
}

/**
 * A row as a lead; `knownId` is the id the file gives a lead without personal data, whose own id
 * depends on the POST that first brought it and cannot be derived again.
 */
/** `timed`: the row gave its creation time; only then can it be newer than what the app holds. */
export type RowLead = { ok: true; lead: Lead; timed: boolean; knownId?: string } | { ok: false; reason: string };

/** A creation time past this much after the import is a typo (a year 2205), which would make every real update look older. */
const maxFutureMs = 24 * 3_600_000;

const copiedFields = [...customerFields, 'actionCode', 'description'] as const;

/** `offerIsId`: the file's offer column holds the offer's id even without a publisher (Partner Center's analytics download). */
function offerParts(leadSource: string, actionCode: string, offer: string, offerTitle: string, offerIsId: boolean): { leadSource: string; offerTitle: string } {
    const isOfferId = offer !== '' && (offerIsId || splitOffer(offer).publisherId !== '');
    const title = offerTitle || (isOfferId ? '' : offer);
    const parts = parseLeadSource(leadSource);
    let combined = leadSource;
    if (isOfferId && !parts.offer) {
        // Split columns: the combined form lets the lead model find source, action and offer as intake does.
        const action = actionCode || parts.action;
        combined = parts.source ? `${parts.source}-${action}|${offer}` : `|${offer}`;
    }
    // An export's offer name column repeats the offer id when the lead had no title: it was never one.
    return { leadSource: combined, offerTitle: title === parseLeadSource(combined).offer ? '' : title };
}

/**
 * Turns one CSV row into the lead intake would have made of it: the same fields through
 * normalizeLead, so the same customer, offer and action get the same id. The receipt id is derived
 * from the row's content, so importing the row again is the same POST, never a new one.
 */
export function leadFromRow(cells: readonly string[], plan: ColumnPlan, importedAt: Date): RowLead {
    if (cells.length !== plan.width) return { ok: false, reason: `The row has ${cells.length} cells where the header has ${plan.width}.` };
    const cell = (field: ImportField): { text: string; header: string } => {
        for (const column of plan.columns[field] ?? []) {
            const text = undefused(cells[column.index] ?? '').trim();
            if (text) return { text, header: column.header };
        }
        return { text: '', header: plan.columns[field]?.[0]?.header ?? field };
    };
    const fields: Partial<Record<LeadField, string>> = {};
    for (const field of copiedFields) if (plan.columns[field]) fields[field] = cell(field).text;
    const name = cell('customerName').text;
    if (name && !fields.firstName && !fields.lastName) Object.assign(fields, splitCustomerName(name));
    const codes = asCodes(cell('leadSource').text || cell('source').text, cell('actionCode').text);
    if (fields.actionCode) fields.actionCode = codes.action;
    const { leadSource, offerTitle } = offerParts(codes.source, codes.action, cell('offer').text, cell('offerTitle').text, plan.kept !== undefined);
    if (leadSource) fields.leadSource = leadSource;
    if (offerTitle) fields.offerTitle = offerTitle;
    if (!Object.values(fields).some(Boolean)) return { ok: false, reason: 'The row has no lead fields: every column the import reads is empty.' };

    const created = cell('createdTime');
    const createdAt = created.text ? parseCreatedTime(created.text) : undefined;
    // The cell is not quoted: a shifted column would put a name or an e-mail here.
    if (created.text && !createdAt) {
        return { ok: false, reason: `The creation time in column "${created.header}" is not a date: use ISO 8601 (2024-05-13T10:22:33Z) or month/day/year (5/13/2024 10:22:33 AM).` };
    }
    if (createdAt && createdAt.getTime() > importedAt.getTime() + maxFutureMs) {
        return { ok: false, reason: `The creation time in column "${created.header}" is more than a day after the import: a lead cannot have been created then.` };
    }
    const extra = Object.fromEntries((plan.kept ?? []).map(({ index, header }): [string, string] => [header, undefused(cells[index] ?? '').trim()]).filter(([, text]) => text !== ''));
    // A referral is one lead in Partner Center: its id, not the row's content, makes a row imported again a repeat.
    const referral = cell('referralId').text.toLowerCase();
    const content = referral || JSON.stringify([fields, createdAt?.toISOString() ?? '']);
    const receiptId = `${referral ? referralReceiptPrefix : importReceiptPrefix}${createHash('sha256').update(content, 'utf8').digest('hex').slice(0, 32)}`;
    const raw: RawLead = { format: 'json', fields, extra };
    const lead = normalizeLead(raw, { receivedAt: createdAt ?? importedAt, receiptId });
    const givenId = cell('leadId').text.toLowerCase();
    const knownId = isAnonymous(lead.customer) && /^[0-9a-f]{32}$/.test(givenId) && givenId !== lead.id ? givenId : undefined;
    const timed = createdAt !== undefined;
    return knownId ? { ok: true, lead, timed, knownId } : { ok: true, lead, timed };
}
