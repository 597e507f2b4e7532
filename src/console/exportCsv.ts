import type { HttpResponseInit } from '@azure/functions';
import type { Settings } from '../config/settings';
import { leadCsvHeader, leadCsvLine } from '../csv/leadsCsv';
import { maskEmail, maskPhone, type PiiMode } from '../notify/mask';
import { customerOf, type CustomerInfo } from '../store/leadsTable';
import type { ConsoleData } from './consoleData';
import type { LeadQuery } from './leadQuery';

/** The customer as NOTIFY_PII lets the console show it: masked keeps the first name, the last name's initial, and the masks of e-mail and phone. */
export function customerAsAllowed(customer: CustomerInfo, pii: PiiMode): CustomerInfo {
    if (pii === 'full') return customer;
    const { Company, Title, Country } = customer;
    if (pii === 'none') return { Company, Title, Country };
    const lastName = customer.LastName ? `${customer.LastName[0] ?? ''}.` : '';
    return { ...customer, LastName: lastName, Email: maskEmail(customer.Email ?? ''), Phone: maskPhone(customer.Phone ?? '') };
}

/** GET /api/console/export.csv: the filtered list, every page of it, in the columns of `npm run leads -- export --csv`. */
export async function exportCsv(data: ConsoleData, s: Settings, query: LeadQuery, headers: Record<string, string>): Promise<HttpResponseInit> {
    const lines = [leadCsvHeader()];
    for await (const { row } of data.matching(query)) lines.push(leadCsvLine(row, customerAsAllowed(customerOf(row), s.NOTIFY_PII)));
    const name = `leads-${query.fromDay}-to-${query.toDay}.csv`;
    return { status: 200, body: lines.join(''), headers: { ...headers, 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` } };
}
