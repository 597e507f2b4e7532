import type { HttpResponseInit } from '@azure/functions';
import { leadCsvHeader, leadCsvLine, type LeadCsvColumn } from '../csv/leadsCsv';
import { maskEmail, maskPhone, type PiiMode } from '../notify/mask';
import { customerOf, type CustomerInfo } from '../store/leadsTable';
import type { ConsoleData } from './consoleData';
import type { LeadQuery } from './leadQuery';

/** The customer as NOTIFY_PII lets the console show it: masked keeps the first name, the last name's initial, and the masks of e-mail and phone. */
export function customerAsAllowed(customer: CustomerInfo, pii: PiiMode): CustomerInfo {
    // The digest's policy; with masked or none the Description goes too (see exportCsv), as the customer may have written anything in it.
    if (pii === 'full') return customer;
    const { Company, Title, Country } = customer;
    if (pii === 'none') return { Company, Title, Country };
    const lastName = customer.LastName ? `${customer.LastName[0] ?? ''}.` : '';
    return { ...customer, LastName: lastName, Email: maskEmail(customer.Email ?? ''), Phone: maskPhone(customer.Phone ?? '') };
}

/** The columns NOTIFY_PII masks or hides, so named in the header. */
const markedColumns: Record<PiiMode, Partial<Record<LeadCsvColumn, 'masked' | 'hidden'>>> = {
    full: {},
    masked: { LastName: 'masked', Email: 'masked', Phone: 'masked', Description: 'hidden' },
    none: { FirstName: 'hidden', LastName: 'hidden', Email: 'hidden', Phone: 'hidden', Description: 'hidden' },
};

/**
 * GET /api/console/export.csv: the filtered list, every page of it, in the columns of `npm run leads
 * -- export --csv`, contact details as `pii` allows (NOTIFY_PII; `full` for the export with contact
 * details, export-full.csv, which the import reads again).
 */
export async function exportCsv(data: ConsoleData, pii: PiiMode, query: LeadQuery, headers: Record<string, string>): Promise<HttpResponseInit> {
    const lines = [leadCsvHeader(markedColumns[pii])];
    for await (const row of data.matchingRows(query)) lines.push(leadCsvLine(pii === 'full' ? row : { ...row, Description: '' }, customerAsAllowed(customerOf(row), pii)));
    const name = `leads-${pii === 'full' ? 'full-' : ''}${query.fromDay}-to-${query.toDay}.csv`;
    return { status: 200, body: lines.join(''), headers: { ...headers, 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` } };
}
