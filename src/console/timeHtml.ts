import { escapeHtml } from '../notify/digest';

/**
 * An instant as the console writes it: UTC to the minute, the second in the title; console.js
 * rewrites the text into the viewer's own time zone and leaves the title in UTC.
 */
export function timeHtml(iso: string | undefined): string {
    if (!iso) return '<span class="none">never</span>';
    const utc = iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '');
    return `<time datetime="${escapeHtml(iso)}" title="${escapeHtml(utc)} UTC">${escapeHtml(utc.slice(0, 16))} UTC</time>`;
}
