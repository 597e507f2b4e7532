import type { LeadTally } from '../store/leadTally';

/** Where the customer found the offer, as the charts group it. */
export const sourceGroups = ['AppSource', 'Azure Marketplace', 'Azure portal', 'Other'] as const;

/** What the customer did, as the charts group it: the marketplace's calls to action. */
export const actionGroups = ['Contact me', 'Get it now', 'Test drive', 'Purchased', 'Do not contact', 'Other'] as const;

const sourceNames: Record<string, (typeof sourceGroups)[number]> = {
    appsource: 'AppSource',
    'appsource (spza)': 'AppSource',
    azuremarketplace: 'Azure Marketplace',
    azureportal: 'Azure portal',
};

const actionNames: Record<string, (typeof actionGroups)[number]> = {
    plt: 'Contact me',
    ins: 'Get it now',
    starttestdrive: 'Test drive',
    create: 'Purchased',
    dnc: 'Do not contact',
};

export function sourceGroup(source: string): string {
    return sourceNames[source.trim().toLowerCase()] ?? 'Other';
}

export function actionGroup(action: string): string {
    return actionNames[action.trim().toLowerCase()] ?? 'Other';
}

/** Which leads the figures count. */
export interface FigureFilter {
    /** Leave out the marketplace's test leads. */
    hideTest?: boolean;
    /** Leave out leads brought in by an import (the health strip counts only leads that arrived). */
    hideImported?: boolean;
}

export function kept(tallies: readonly LeadTally[], filter: FigureFilter): LeadTally[] {
    return tallies.filter((tally) => !(filter.hideTest && tally.test) && !(filter.hideImported && tally.imported));
}

export function total(tallies: readonly LeadTally[], filter: FigureFilter = {}): number {
    return kept(tallies, filter).reduce((sum, tally) => sum + tally.count, 0);
}

/** One series of a chart: a group's count on each day. */
export interface Series {
    name: string;
    values: number[];
}

/** Each group's count per day, the groups in the order given, on the days given (oldest first). */
export function perDay(tallies: readonly LeadTally[], days: readonly string[], groups: readonly string[], groupOf: (tally: LeadTally) => string): Series[] {
    const index = new Map(days.map((day, i) => [day, i]));
    const series = groups.map((name) => ({ name, values: days.map(() => 0) }));
    const byName = new Map(series.map((s) => [s.name, s]));
    for (const tally of tallies) {
        const at = index.get(tally.day);
        const target = byName.get(groupOf(tally));
        if (at !== undefined && target) target.values[at] = (target.values[at] ?? 0) + tally.count;
    }
    return series;
}

/** The offers with the most leads, most first (then by name), with their counts. */
export function topOffers(tallies: readonly LeadTally[], limit: number): { offer: string; count: number }[] {
    const counts = new Map<string, number>();
    for (const tally of tallies) counts.set(tally.offer, (counts.get(tally.offer) ?? 0) + tally.count);
    return [...counts]
        .map(([offer, count]) => ({ offer, count }))
        .sort((a, b) => b.count - a.count || a.offer.localeCompare(b.offer))
        .slice(0, limit);
}
