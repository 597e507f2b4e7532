import type { CustomerField } from '../lead/fields';
import type { Lead } from '../lead/lead';
import { keepingItsOrder, versionOrder } from '../lead/version';
import { customerOf, leadEntity, type CustomerInfo, type LeadEntity } from '../store/leadsTable';
import type { ImportField } from './columns';

const customerColumns: Readonly<Record<CustomerField, keyof CustomerInfo>> = {
    firstName: 'FirstName',
    lastName: 'LastName',
    email: 'Email',
    phone: 'Phone',
    country: 'Country',
    company: 'Company',
    title: 'Title',
};

/** The leads-table columns an imported field decides; customer fields are compared inside CustomerInfo. */
const tableColumns: Readonly<Partial<Record<ImportField, readonly (keyof LeadEntity)[]>>> = {
    leadSource: ['Source', 'Offer'],
    source: ['Source'],
    actionCode: ['ActionCode'],
    offer: ['Offer', 'OfferDisplayName'],
    offerTitle: ['OfferDisplayName'],
    description: ['Description'],
};

function isCustomerField(field: ImportField): field is CustomerField {
    return field in customerColumns;
}

/**
 * The columns in which an imported lead says something other than the app's row, among the fields
 * the file carries: an export has no `extra`, and a column it lacks says nothing. Compared as the
 * table would store the lead, so normalising (e-mail case, spaces) and truncation are no difference.
 */
export function changedColumns(lead: Lead, row: LeadEntity, carried: readonly ImportField[]): string[] {
    const imported = leadEntity(lead, row);
    const [now, held] = [customerOf(imported), customerOf(row)];
    const changed = new Set<string>();
    for (const field of carried) {
        if (isCustomerField(field)) {
            const column = customerColumns[field];
            if ((now[column] ?? '') !== (held[column] ?? '')) changed.add(column);
        }
        for (const column of tableColumns[field] ?? []) if (String(imported[column] ?? '') !== String(row[column] ?? '')) changed.add(column);
    }
    return [...changed];
}

/**
 * The import is an update of the app's lead: newer than the version the row shows (in the order
 * the destinations use, the file's creation time standing for storage's), and different where the
 * file says anything.
 */
export function isUpdateOf(lead: Lead, row: LeadEntity, carried: readonly ImportField[]): boolean {
    return versionOrder(keepingItsOrder(lead)) > (row.VersionOrder ?? row.VersionAt ?? row.CreatedTime) && changedColumns(lead, row, carried).length > 0;
}
