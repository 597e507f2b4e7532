import { escapeHtml as h } from '../notify/digest';
import type { Series } from './figures';

/** A stacked bar chart: one bar per label (a day), one colour per series. */
export interface BarChart {
    /** Unique on the page: the ids of the chart's title and description derive from it. */
    id: string;
    title: string;
    description: string;
    labels: readonly string[];
    series: readonly Series[];
}

/** Narrow enough that the ticks stay legible when a phone scales the chart down to its width. */
const width = 560;
const height = 200;
const left = 40;
const right = 8;
const top = 10;
const bottom = 22;

/** The smallest of 1, 2, 5, 10, 20, 50, … at or above the value: the top of the scale. */
export function scaleTop(max: number): number {
    if (max <= 1) return 1;
    for (let power = 1; ; power *= 10) for (const step of [1, 2, 5]) if (step * power >= max) return step * power;
}

function n(value: number): string {
    return String(Math.round(value * 100) / 100);
}

function bars(chart: BarChart, scale: number): string {
    const band = (width - left - right) / Math.max(chart.labels.length, 1);
    const barWidth = Math.max(band * 0.8, 1);
    const plotHeight = height - top - bottom;
    return chart.labels
        .map((label, i) => {
            let stacked = 0;
            const x = left + i * band + (band - barWidth) / 2;
            return chart.series
                .map((series, s) => {
                    const value = series.values[i] ?? 0;
                    if (value === 0) return '';
                    const y = top + plotHeight - ((stacked + value) / scale) * plotHeight;
                    stacked += value;
                    return `<rect class="series-${s}" x="${n(x)}" y="${n(y)}" width="${n(barWidth)}" height="${n((value / scale) * plotHeight)}"><title>${h(`${label} · ${series.name}: ${value}`)}</title></rect>`;
                })
                .join('');
        })
        .join('');
}

function axes(chart: BarChart, scale: number): string {
    const plotHeight = height - top - bottom;
    const ticks = [0, scale / 2, scale].filter((tick) => Number.isInteger(tick));
    const lines = [...new Set(ticks)]
        .map((tick) => {
            const y = n(top + plotHeight - (tick / scale) * plotHeight);
            return `<line class="grid" x1="${left}" x2="${width - right}" y1="${y}" y2="${y}"/><text class="tick" x="${left - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${tick}</text>`;
        })
        .join('');
    const first = chart.labels[0] ?? '';
    const last = chart.labels[chart.labels.length - 1] ?? '';
    const labels = `<text class="tick" x="${left}" y="${height - 6}" text-anchor="start">${h(first)}</text><text class="tick" x="${width - right}" y="${height - 6}" text-anchor="end">${h(last)}</text>`;
    return lines + labels;
}

/** The figures behind the chart, for screen readers and for anyone who wants the numbers; on a phone the table scrolls, so it takes the focus for the keyboard. */
function dataTable(chart: BarChart): string {
    const head = chart.series.map((series) => `<th scope="col">${h(series.name)}</th>`).join('');
    const rows = chart.labels
        .map((label, i) => {
            const values = chart.series.map((series) => series.values[i] ?? 0);
            return `<tr><th scope="row">${h(label)}</th>${values.map((value) => `<td>${value}</td>`).join('')}<td>${values.reduce((sum, value) => sum + value, 0)}</td></tr>`;
        })
        .join('');
    return `<details><summary>${h(chart.title)}: the figures as a table</summary><div class="scroll" tabindex="0" role="region" aria-label="${h(chart.title)}: figures"><table class="figures"><caption>${h(chart.title)}</caption><thead><tr><th scope="col">Day</th>${head}<th scope="col">All</th></tr></thead><tbody>${rows}</tbody></table></div></details>`;
}

function legend(chart: BarChart): string {
    const totals = chart.series.map((series) => series.values.reduce((sum, value) => sum + value, 0));
    return `<ul class="legend" aria-hidden="true">${chart.series.map((series, s) => `<li><span class="swatch series-${s}"></span>${h(series.name)} ${totals[s] ?? 0}</li>`).join('')}</ul>`;
}

/**
 * A stacked bar chart as server-rendered SVG that scales to its box (no script, no inline style:
 * the console's CSP forbids both), its legend, and a table of the same figures. Every label is escaped.
 */
export function barChart(chart: BarChart): string {
    const max = Math.max(0, ...chart.labels.map((_, i) => chart.series.reduce((sum, series) => sum + (series.values[i] ?? 0), 0)));
    const scale = scaleTop(max);
    const id = h(chart.id);
    return `<figure class="chart" id="${id}"><svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-title ${id}-desc" focusable="false"><title id="${id}-title">${h(chart.title)}</title><desc id="${id}-desc">${h(chart.description)}</desc>${axes(chart, scale)}${bars(chart, scale)}</svg><figcaption>${h(chart.title)}</figcaption>${legend(chart)}${dataTable(chart)}</figure>`;
}
