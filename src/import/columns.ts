import { maskedHeader } from '../csv/leadsCsv';
/**
 * What a column of an imported file can hold: the lead fields, and the parts that exports give in
 * columns of their own. `leadSource` is the combined `Source-Action|Offer` (or a bare source);
 * `source` is a bare source; `offer` is `publisherid.offerid` (or, in some exports, the offer's name).
 */
export const importFields = [
    'firstName',
    'lastName',
    'email',
    'phone',
    'company',
    'title',
    'country',
    'leadSource',
    'source',
    'actionCode',
    'offer',
    'offerTitle',
    'description',
    'createdTime',
    'leadId',
    'customerName',
    'referralId',
] as const;

export type ImportField = (typeof importFields)[number];

/**
 * The headers each field is recognised by, best first. Headers match ignoring case, spaces and
 * punctuation, so `Email address`, `EmailAddress` and `email_address` are one. The headers of
 * Partner Center's Marketplace leads download are not publicly documented (`--map` names any column
 * this table does not know); those of its analytics leads download are, and all are read.
 * Where a file has several columns for one field (the app's own export has `LeadSource` and `Source`,
 * `OfferDisplayName` and `Offer`), each row takes the first non-empty one in this order.
 */
export const headerAliases: Readonly<Record<ImportField, readonly string[]>> = {
    firstName: ['First name', 'FirstName', 'Given name'],
    lastName: ['Last name', 'LastName', 'Surname', 'Family name'],
    email: ['Email', 'Email address', 'E-mail', 'Contact email', 'Work email'],
    phone: ['Phone', 'Phone number', 'Telephone', 'Business phone'],
    company: ['Company', 'Company name', 'Organization', 'Organisation'],
    title: ['Title', 'Job title'],
    country: ['Country', 'Country/region', 'Country or region', 'Customer country'],
    leadSource: ['LeadSource', 'Lead source'],
    source: ['Source'],
    actionCode: ['ActionCode', 'Action code', 'Action', 'Call to action'],
    offer: ['Offer', 'Offer ID', 'Offer identifier'],
    offerTitle: ['OfferDisplayName', 'Offer title', 'OfferTitle', 'Offer name', 'Offer display name'],
    description: ['Description', 'Notes', 'Comments'],
    createdTime: ['LeadCreationDateTime', 'CreatedTime', 'Created', 'Created time', 'Created date', 'Created on', 'Date created', 'Creation date'],
    leadId: ['LeadId', 'Lead ID'],
    customerName: ['Customer name', 'Full name', 'Contact name'],
    referralId: ['Referral ID'],
};

/**
 * Partner Center's analytics leads download (its columns are documented, in "Referral analytics
 * data definition"): its `Customer Name` is the customer's organisation, not a person, and each row
 * is one referral, named by its `Referral ID`. A file with that column is read as one.
 */
const analyticsOverrides: ReadonlyMap<string, ImportField> = new Map([[headerKey('Customer name'), 'company']]);

/** A header or field name without case, spaces or punctuation: `Country/region` is `countryregion`. */
export function headerKey(text: string): string {
    return text
        .normalize('NFKC')
        .toLowerCase()
        .replace(/[^\p{L}\p{N}]+/gu, '');
}

const aliasByKey: ReadonlyMap<string, { field: ImportField; rank: number }> = new Map(importFields.flatMap((field) => headerAliases[field].map((alias, rank) => [headerKey(alias), { field, rank }] as const)));

const fieldByKey: ReadonlyMap<string, ImportField> = new Map(importFields.map((field) => [headerKey(field), field]));

/** The field a `--map` names (`email`, `offerTitle`, in any casing), or undefined for an unknown one. */
export function importFieldNamed(name: string): ImportField | undefined {
    return fieldByKey.get(headerKey(name));
}

/** The fields that make a lead; `createdTime`, `leadId` and `referralId` only describe one. */
const leadContentFields: readonly ImportField[] = importFields.filter((field) => field !== 'createdTime' && field !== 'leadId' && field !== 'referralId');

/** The header row cannot be used: a `--map` names an unknown field or a column the file lacks, no column is a lead field, or there is no header at all. */
export class HeaderError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'HeaderError';
    }
}

/**
 * A header as messages show it. A file without a header row has a customer's values where the
 * header should be: a cell that looks like data (an address, a phone number, a long text) is named
 * by its position instead.
 */
export function shownHeader(cell: string, index: number): string {
    const looksLikeData = cell.length > 40 || /@|\d{5}|\d[\d\s().-]{6,}\d/.test(cell);
    return looksLikeData ? `column ${index + 1}` : `"${cell}"`;
}

/** Which columns of a file feed which field. */
export interface ColumnPlan {
    /** The header's cell count: a row with another count is refused. */
    width: number;
    /** For each field the file carries, its columns (index and header), best first. */
    columns: Partial<Record<ImportField, { index: number; header: string }[]>>;
    /** Headers the import does not read. */
    ignored: string[];
    /** Partner Center's analytics download: the columns that are no lead field, kept in the lead's other fields (`extra`) under their headers. */
    kept?: { index: number; header: string }[];
}

/**
 * Matches a header row against the alias table and the `map` (header → field name), whose columns
 * come first for their field. Throws HeaderError for an unknown field, a mapped header the file
 * does not have, or a header with no lead field at all.
 */
export function planColumns(header: readonly string[], map: Readonly<Record<string, string>> = {}): ColumnPlan {
    const masked = header.filter((cell) => maskedHeader.test(cell));
    if (masked.length > 0) {
        throw new HeaderError(
            `This file is an export whose contact details are masked or hidden (${masked.map((cell) => `"${cell}"`).join(', ')}): importing it would store the masks as contacts. Export with "npm run --silent leads -- export --csv > leads.csv" (or --out leads.csv), or with the console's "Export CSV with contact details" (for the app role in CONSOLE_EXPORT_ROLE).`,
        );
    }
    const mapped = new Map<number, ImportField>();
    for (const [mappedHeader, fieldName] of Object.entries(map)) {
        const field = importFieldNamed(fieldName);
        if (!field) throw new HeaderError(`--map "${mappedHeader}=${fieldName}" names the field "${fieldName}", which is not one of ${importFields.join(', ')}.`);
        const index = header.findIndex((cell) => headerKey(cell) === headerKey(mappedHeader));
        if (index < 0) throw new HeaderError(`--map "${mappedHeader}=${fieldName}" names the column "${mappedHeader}", which the file does not have.`);
        mapped.set(index, field);
    }
    const ranked: { field: ImportField; rank: number; index: number; header: string }[] = [];
    const ignored: string[] = [];
    const analytics = header.some((cell) => aliasByKey.get(headerKey(cell))?.field === 'referralId');
    const kept: { index: number; header: string }[] = [];
    header.forEach((cell, index) => {
        const mappedField = mapped.get(index);
        const override = analytics ? analyticsOverrides.get(headerKey(cell)) : undefined;
        const match = mappedField ? { field: mappedField, rank: -1 } : override ? { field: override, rank: 0 } : aliasByKey.get(headerKey(cell));
        if (match) ranked.push({ ...match, index, header: cell });
        if (analytics && (!match || match.field === 'referralId')) kept.push({ index, header: cell });
        else if (!match) ignored.push(cell);
    });
    ranked.sort((a, b) => a.rank - b.rank || a.index - b.index);
    const columns: ColumnPlan['columns'] = {};
    for (const { field, index, header: name } of ranked) (columns[field] ??= []).push({ index, header: name });
    if (!leadContentFields.some((field) => columns[field])) {
        throw new HeaderError(`None of the ${header.length} columns (${header.map(shownHeader).join(', ')}) is a lead field: name them with --map "Header=field", or add the header row if the file has none.`);
    }
    return analytics ? { width: header.length, columns, ignored, kept } : { width: header.length, columns, ignored };
}
