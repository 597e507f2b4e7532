import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barChart, scaleTop } from '../../src/console/chart';
import { actionGroup, actionGroups, perDay, sourceGroup, sourceGroups, topOffers, total } from '../../src/console/figures';
import { QueryError } from '../../src/console/leadQuery';
import { parseOverviewQuery } from '../../src/console/overview';
import { figuresOf, monthFigures, monthRow, type CountedRow } from '../../src/store/dayFigures';
import { addDays, daysFrom, lastDayOfMonth, monthAfter } from '../../src/store/utcDays';

function row(day: string, changes: Partial<CountedRow> = {}): CountedRow {
    return { partitionKey: day, Source: 'AzureMarketplace', ActionCode: 'INS', OfferDisplayName: 'Contoso Analytics', Offer: 'contoso.analytics', IsTest: false, ...changes };
}

describe('lead figures', () => {
    it('counts rows by day, and by source, action and offer, with test and imported leads apart, exactly', () => {
        const figures = figuresOf([
            row('2026-11-02', { Source: 'AppSource', ActionCode: 'PLT' }),
            row('2026-11-01'),
            row('2026-11-01'),
            row('2026-11-01', { IsTest: true }),
            row('2026-11-01', { Imported: true }),
            row('2026-11-01', { IsTest: true, Imported: true }),
            row('2026-11-02', { OfferDisplayName: '', Offer: 'contoso.crm' }),
        ]);
        assert.deepEqual(
            figures.map((f) => [f.day, f.leads]),
            [
                ['2026-11-01', [5, 2, 2, 1]],
                ['2026-11-02', [2, 0, 0, 0]],
            ],
        );
        assert.equal(total(figures), 7);
        assert.equal(total(figures, { hideTest: true }), 5);
        assert.equal(total(figures, { hideImported: true }), 5);
        assert.equal(total(figures, { hideTest: true, hideImported: true }), 4);
        assert.deepEqual(figures[0]?.by.source.get('AzureMarketplace'), [5, 2, 2, 1]);
        assert.deepEqual(
            [...(figures[1]?.by.action ?? [])],
            [
                ['PLT', [1, 0, 0, 0]],
                ['INS', [1, 0, 0, 0]],
            ],
        );
        assert.deepEqual(topOffers(figures, 1), [{ offer: 'Contoso Analytics', count: 6 }]);
        assert.deepEqual(topOffers(figures, 5, { hideTest: true }), [
            { offer: 'Contoso Analytics', count: 4 },
            { offer: 'contoso.crm', count: 1 },
        ]);
        // A key that names an object's prototype is just a key.
        assert.deepEqual(figuresOf([row('2026-11-01', { Source: '__proto__' })])[0]?.by.source.get('__proto__'), [1, 0, 0, 0]);
    });

    it('groups sources and calls to action as the marketplace names them, anything else as Other', () => {
        assert.deepEqual(['AppSource (SPZA)', 'appsource', 'AzureMarketplace', 'AzurePortal', 'TestDrive', ''].map(sourceGroup), ['AppSource', 'AppSource', 'Azure Marketplace', 'Azure portal', 'Other', 'Other']);
        assert.deepEqual(['PLT', 'ins', 'StartTestDrive', 'Create', 'DNC', 'MSFT_TEST'].map(actionGroup), ['Contact me', 'Get it now', 'Test drive', 'Purchased', 'Do not contact', 'Other']);
    });

    it('lays the counts out per day and group, zero where a day has none, test leads left out when asked', () => {
        const figures = figuresOf([
            row('2026-10-30', { Source: 'AppSource' }),
            row('2026-11-02', { Source: 'AppSource', ActionCode: 'PLT' }),
            row('2026-11-02', { Source: 'AppSource', ActionCode: 'PLT' }),
            row('2026-11-02', { Source: 'AppSource', ActionCode: 'PLT' }),
            row('2026-11-02', { Source: 'AzurePortal', ActionCode: 'Create' }),
            row('2026-11-04', { Source: 'AppSource (SPZA)', IsTest: true }),
            row('2026-11-04', { Source: 'AppSource (SPZA)', IsTest: true }),
        ]);
        const days = daysFrom('2026-11-01', '2026-11-04');
        const series = perDay(figures, days, 'source', sourceGroups, sourceGroup);
        assert.deepEqual(
            series.map((s) => [s.name, s.values]),
            [
                ['AppSource', [0, 3, 0, 2]],
                ['Azure Marketplace', [0, 0, 0, 0]],
                ['Azure portal', [0, 1, 0, 0]],
                ['Other', [0, 0, 0, 0]],
            ],
        );
        assert.deepEqual(perDay(figures, days, 'source', sourceGroups, sourceGroup, { hideTest: true })[0]?.values, [0, 3, 0, 0]);
        assert.deepEqual(perDay(figures, days, 'action', actionGroups, actionGroup)[0], { name: 'Contact me', values: [0, 3, 0, 0] });
    });

    it('keeps a month in a row and reads it back; a stale, cut or oversized month is not read', () => {
        const figures = figuresOf([row('2026-10-01'), row('2026-10-31', { Source: 'Süd "quoted" \u2028', IsTest: true })]);
        const kept = monthRow('2026-10', '2026-10-31', figures);
        assert.ok(kept);
        assert.deepEqual(monthFigures(kept), { through: '2026-10-31', figures });
        assert.equal(monthFigures({ ...kept, Stale: true }), undefined);
        // Many offers: the JSON is split over several properties, each within a table string's 32 K characters.
        const many = figuresOf(Array.from({ length: 2000 }, (_, i) => row('2026-10-05', { OfferDisplayName: `Offer number ${i} with a long enough name` })));
        const split = monthRow('2026-10', '2026-10-31', many);
        assert.ok(split?.Parts && split.Parts > 1);
        assert.ok(Object.entries(split).every(([key, value]) => !key.startsWith('F') || (typeof value === 'string' && value.length <= 32_000)));
        assert.deepEqual(monthFigures(split)?.figures, many);
        assert.equal(monthFigures({ ...split, F1: undefined }), undefined);
        const huge = figuresOf(Array.from({ length: 20_000 }, (_, i) => row('2026-10-05', { OfferDisplayName: `Offer number ${i} with a long enough name` })));
        assert.equal(monthRow('2026-10', '2026-10-31', huge), undefined, 'counted afresh at each read rather than kept half');
    });

    it('walks UTC days and months across month and year ends and leap days', () => {
        assert.equal(lastDayOfMonth('2028-02'), '2028-02-29');
        assert.equal(lastDayOfMonth('2026-12'), '2026-12-31');
        assert.equal(monthAfter('2026-12'), '2027-01');
        assert.equal(addDays('2026-03-01', -1), '2026-02-28');
        assert.deepEqual(daysFrom('2026-12-30', '2027-01-02'), ['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
        assert.equal(daysFrom('2026-01-01', '2026-03-31').length, 90);
    });

    it('reads the overview parameters, and names a bad one', () => {
        const now = new Date('2026-12-03T16:00:00Z');
        assert.deepEqual(parseOverviewQuery(new URLSearchParams(), now), { days: 30, hideTest: false, fromDay: '2026-11-04', toDay: '2026-12-03' });
        assert.deepEqual(parseOverviewQuery(new URLSearchParams('days=90&hideTest=true'), now), { days: 90, hideTest: true, fromDay: '2026-09-05', toDay: '2026-12-03' });
        assert.throws(
            () => parseOverviewQuery(new URLSearchParams('days=7'), now),
            (error: unknown) => error instanceof QueryError && /days is "7": use 30 or 90/.test(error.message),
        );
        assert.throws(() => parseOverviewQuery(new URLSearchParams('colour=red'), now), /there is no parameter "colour"/);
    });
});

describe('the bar chart', () => {
    const chart = {
        id: 'by-source',
        title: 'Leads <per> day',
        description: 'Stacked & grouped',
        labels: ['2026-11-01', '2026-11-02', '2026-11-03'],
        series: [
            { name: 'A<script>', values: [1, 0, 4] },
            { name: 'B', values: [2, 0, 3] },
        ],
    };

    it('picks a round top for the scale', () => {
        assert.deepEqual([0, 1, 2, 3, 7, 10, 11, 49, 51, 4001].map(scaleTop), [1, 1, 2, 5, 10, 10, 20, 50, 100, 5000]);
    });

    it('draws one rectangle per non-zero value, stacked within the plot, scaled to the tallest day', () => {
        const svg = barChart(chart);
        const rects = [...svg.matchAll(/<rect class="series-(\d)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)">/g)].map((m) => m.slice(1).map(Number));
        assert.equal(rects.length, 4);
        // The third day holds 7 of a scale of 10, on a plot 168 high from y=10: its stack reaches 168 - 0.7 × 168 + 10.
        const third = rects.filter(([, x]) => (x ?? 0) > 350);
        assert.equal(third.length, 2);
        const top = Math.min(...third.map(([, , y]) => y ?? 0));
        assert.ok(Math.abs(top - (10 + 168 * 0.3)) < 0.02, `the stack's top is at ${top}`);
        assert.ok(Math.abs(third.reduce((sum, r) => sum + (r[4] ?? 0), 0) - 168 * 0.7) < 0.05);
        assert.match(svg, /<title>2026-11-03 · B: 3<\/title>/);
    });

    it('escapes every label, names itself for screen readers, and has the figures in a table', () => {
        const html = barChart(chart);
        assert.doesNotMatch(html, /<script>|<per>/);
        assert.match(html, /A&#60;script&#62;/);
        assert.match(html, /<svg [^>]*role="img" aria-labelledby="by-source-title by-source-desc"/);
        assert.match(html, /<title id="by-source-title">Leads &#60;per&#62; day<\/title><desc id="by-source-desc">Stacked &#38; grouped<\/desc>/);
        assert.match(html, /<tr><th scope="row">2026-11-03<\/th><td>4<\/td><td>3<\/td><td>7<\/td><\/tr>/);
        assert.doesNotMatch(html, /style=/, 'no inline style: the CSP forbids it');
        assert.match(html, /<div class="scroll" tabindex="0" role="region" aria-label="Leads &#60;per&#62; day: figures">/, 'the table scrolls on a phone: the keyboard can reach it');
    });
});
