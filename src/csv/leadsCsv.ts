import { customerOf, type LeadEntity } from '../store/leadsTable';

/** The columns of a leads export, in order: the CLI's `export --csv` and the console's Export CSV. */
export const leadCsvColumns = [
    'LeadId',
    'CreatedTime',
    'LastSeenAt',
    'Occurrences',
    'LeadSource',
    'Source',
    'ActionCode',
    'Offer',
    'OfferDisplayName',
    'FirstName',
    'LastName',
    'Email',
    'Phone',
    'Country',
    'Company',
    'Title',
    'Description',
    'IsTest',
    'DoNotContact',
] as const;

export type LeadCsvColumn = (typeof leadCsvColumns)[number];

/** Quotes a CSV cell, and defuses cells a spreadsheet would run as a formula. */
export function csvCell(value: unknown): string {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- table cells are strings, numbers, booleans or dates
    let text = value === undefined || value === null ? '' : String(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The cells of one row of the leads table, by column; `customer` may be a masked copy of the row's customer. */
export function leadCsvValues(row: LeadEntity, customer = customerOf(row)): Record<LeadCsvColumn, unknown> {
    return {
        LeadId: row.LeadId,
        CreatedTime: row.CreatedTime,
        LastSeenAt: row.LastSeenAt,
        Occurrences: row.Occurrences,
        LeadSource: row.LeadSource,
        Source: row.Source,
        ActionCode: row.ActionCode,
        Offer: row.Offer,
        OfferDisplayName: row.OfferDisplayName,
        FirstName: customer.FirstName,
        LastName: customer.LastName,
        Email: customer.Email,
        Phone: customer.Phone,
        Country: customer.Country,
        Company: customer.Company,
        Title: customer.Title,
        Description: row.Description,
        IsTest: row.IsTest,
        DoNotContact: row.DoNotContact,
    };
}

/**
 * The header line. `marked` columns carry a suffix, `Email (masked)`: an export that hides contact
 * details says so in its header, and the import refuses it rather than store masks as contacts.
 */
export function leadCsvHeader(marked: Partial<Record<LeadCsvColumn, 'masked' | 'hidden'>> = {}): string {
    return `${leadCsvColumns.map((column) => (marked[column] ? `${column} (${marked[column]})` : column)).join(',')}\r\n`;
}

/** A header of an export whose contact details were masked or hidden. */
export const maskedHeader = /\((masked|hidden)\)\s*$/i;

/** One CSV line (with its line end) for a row of the leads table. */
export function leadCsvLine(row: LeadEntity, customer = customerOf(row)): string {
    const values = leadCsvValues(row, customer);
    return `${leadCsvColumns.map((column) => csvCell(values[column])).join(',')}\r\n`;
}
