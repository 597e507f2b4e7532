import { z } from 'zod';
import { escapeHtml as h } from '../notify/digest';
import type { DayFigures } from '../store/dayFigures';
import { addDays, dayOf, daysFrom } from '../store/utcDays';
import { barChart } from './chart';
import { actionGroup, actionGroups, perDay, sourceGroup, sourceGroups, topOffers, total } from './figures';
import { QueryError } from './leadQuery';
import { consolePath, renderPage } from './render';

/** The spans the overview offers, in days ending today (UTC). */
export const overviewSpans = ['30', '90'] as const;

const overviewSchema = z
    .object({
        days: z.enum(overviewSpans, { message: `use ${overviewSpans.join(' or ')}` }).default('30'),
        hideTest: z.enum(['', 'true', 'false'], { message: 'use true or false' }).optional(),
        code: z.string().optional(),
    })
    .strict();

export interface OverviewQuery {
    days: number;
    hideTest: boolean;
    fromDay: string;
    toDay: string;
}

/** The overview's parameters; a bad one is a QueryError naming it. */
export function parseOverviewQuery(params: URLSearchParams, now = new Date()): OverviewQuery {
    const parsed = overviewSchema.safeParse(Object.fromEntries(params));
    if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) =>
            issue.code === 'unrecognized_keys' ? `there is no parameter ${issue.keys.map((k) => `"${k}"`).join(', ')}` : `${String(issue.path[0])} is "${params.get(String(issue.path[0])) ?? ''}": ${issue.message}`,
        );
        throw new QueryError(`The overview's parameters are not valid: ${problems.join('; ')}.`);
    }
    const days = Number(parsed.data.days);
    const toDay = dayOf(now.getTime());
    return { days, hideTest: parsed.data.hideTest === 'true', fromDay: addDays(toDay, 1 - days), toDay };
}

/** Offers listed by count on the overview. */
const offersShown = 20;

function link(query: OverviewQuery, changes: Partial<Pick<OverviewQuery, 'days' | 'hideTest'>>): string {
    const next = { ...query, ...changes };
    const params = new URLSearchParams({ days: String(next.days), ...(next.hideTest ? { hideTest: 'true' } : {}) });
    return `${consolePath}/view/overview?${params.toString()}`;
}

function switches(query: OverviewQuery): string {
    const spans = overviewSpans
        .map((span) => (Number(span) === query.days ? `<a aria-current="page" href="${link(query, {})}">${span} days</a>` : `<a href="${link(query, { days: Number(span) })}">${span} days</a>`))
        .join(' ');
    const test = query.hideTest ? `<a href="${link(query, { hideTest: false })}">Show test leads</a>` : `<a href="${link(query, { hideTest: true })}">Hide test leads</a>`;
    return `<nav class="switches" aria-label="Span and test leads">${spans} · ${test}</nav>`;
}

function offersTable(days: readonly DayFigures[], all: number, hideTest: boolean): string {
    const offers = topOffers(days, offersShown, { hideTest });
    if (offers.length === 0) return '<p>No lead in these days.</p>';
    const rows = offers.map(({ offer, count }) => `<tr><th scope="row">${h(offer || '(no offer)')}</th><td>${count}</td><td>${Math.round((count / all) * 100)}%</td></tr>`).join('');
    return `<div class="scroll"><table class="offers"><caption>Leads per offer, the ${offersShown} with the most</caption><thead><tr><th scope="col">Offer</th><th scope="col">Leads</th><th scope="col">Share</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The overview: leads per day by source and by action, and per offer, over the last 30 or 90 days. */
export function renderOverviewPage(query: OverviewQuery, figures: readonly DayFigures[]): string {
    const filter = { hideTest: query.hideTest };
    const days = daysFrom(query.fromDay, query.toDay);
    const all = total(figures, filter);
    const tests = total(figures) - total(figures, { hideTest: true });
    const imported = all - total(figures, { ...filter, hideImported: true });
    const span = `${query.fromDay} to ${query.toDay} (UTC days)`;
    const summary = `${all} lead${all === 1 ? '' : 's'} from ${span}${query.hideTest ? `, ${tests} test lead${tests === 1 ? '' : 's'} left out` : `, ${tests} of them test leads`}; ${imported} imported.`;
    const chart = (id: string, by: 'source' | 'action', groups: readonly string[], groupOf: (key: string) => string) =>
        barChart({
            id,
            title: `Leads per day by ${by}, last ${query.days} days`,
            description: `Stacked bars, one a day from ${query.fromDay} to ${query.toDay}: ${groups.join(', ')}.`,
            labels: days,
            series: perDay(figures, days, by, groups, groupOf, filter),
        });
    const bySource = chart('by-source', 'source', sourceGroups, sourceGroup);
    const byAction = chart('by-action', 'action', actionGroups, actionGroup);
    return renderPage(
        'Overview',
        `<p><a href="${consolePath}">← All leads</a></p>
<h1>Overview</h1>
${switches(query)}
<p class="summary" data-total="${all}">${h(summary)}</p>
<section aria-labelledby="by-source-title-h"><h2 id="by-source-title-h">By source</h2>${bySource}</section>
<section aria-labelledby="by-action-title-h"><h2 id="by-action-title-h">By action</h2>${byAction}</section>
<section aria-labelledby="offers-title"><h2 id="offers-title">By offer</h2>${offersTable(figures, all, query.hideTest)}</section>`,
    );
}
