import { parseCampaign, type Campaign, type CampaignKey } from '../lead/campaign';

/** The table column of each campaign value. */
export const campaignColumns = {
    mktcmpid: 'Campaign',
    utm_source: 'UtmSource',
    utm_medium: 'UtmMedium',
    utm_campaign: 'UtmCampaign',
    utm_term: 'UtmTerm',
    utm_content: 'UtmContent',
} as const satisfies Record<CampaignKey, string>;

/** The columns of a lead's campaign values, present ones only (parseCampaign bounds their length). */
export function campaignCells(campaign: Campaign): Record<string, string> {
    return Object.fromEntries(Object.entries(campaignColumns).flatMap(([key, column]) => (campaign[key as CampaignKey] ? [[column, campaign[key as CampaignKey] ?? '']] : [])));
}

/** The campaign of a row: its columns, or for a table without them (the marketplace's own), what its Description says. */
export function campaignOf(entity: object): Campaign {
    const row = entity as Partial<Record<string, unknown>>;
    const fromColumns: Campaign = {};
    for (const [key, column] of Object.entries(campaignColumns)) {
        const value = row[column];
        if (typeof value === 'string' && value !== '') fromColumns[key as CampaignKey] = value;
    }
    if (Object.keys(fromColumns).length > 0 || typeof row.Description !== 'string') return fromColumns;
    return parseCampaign(row.Description);
}
