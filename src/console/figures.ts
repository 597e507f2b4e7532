import type { Count, DayFigures } from '../store/dayFigures';

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

/** The leads of a count the filter keeps. */
export function countOf([all, test, imported, testImported]: Count, filter: FigureFilter = {}): number {
    return all - (filter.hideTest ? test : 0) - (filter.hideImported ? imported : 0) + (filter.hideTest && filter.hideImported ? testImported : 0);
}

export function total(days: readonly DayFigures[], filter: FigureFilter = {}): number {
    return days.reduce((sum, day) => sum + countOf(day.leads, filter), 0);
}

/** One series of a chart: a group's count on each day. */
export interface Series {
    name: string;
    values: number[];
}

/** Each group's count per day (labels: the days, oldest first), the groups in the order given. */
export function perDay(days: readonly DayFigures[], labels: readonly string[], dimension: 'source' | 'action', groups: readonly string[], groupOf: (key: string) => string, filter: FigureFilter = {}): Series[] {
    const index = new Map(labels.map((day, i) => [day, i]));
    const series = groups.map((name) => ({ name, values: labels.map(() => 0) }));
    const byName = new Map(series.map((s) => [s.name, s]));
    for (const figures of days) {
        const at = index.get(figures.day);
        if (at === undefined) continue;
        for (const [key, count] of figures.by[dimension]) {
            const target = byName.get(groupOf(key));
            if (target) target.values[at] = (target.values[at] ?? 0) + countOf(count, filter);
        }
    }
    return series;
}

/** The offers with the most leads, most first (then by name), with their counts. */
export function topOffers(days: readonly DayFigures[], limit: number, filter: FigureFilter = {}): { offer: string; count: number }[] {
    const counts = new Map<string, number>();
    for (const figures of days) for (const [offer, count] of figures.by.offer) counts.set(offer, (counts.get(offer) ?? 0) + countOf(count, filter));
    return [...counts]
        .map(([offer, count]) => ({ offer, count }))
        .filter(({ count }) => count > 0)
        .sort((a, b) => b.count - a.count || a.offer.localeCompare(b.offer))
        .slice(0, limit);
}
