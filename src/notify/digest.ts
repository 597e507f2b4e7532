import { parseLeadSource } from '../lead/leadSource';
import { campaignOf } from '../store/campaignColumns';
import { contactFor, type PiiMode } from './mask';
import { originInWords } from './words';
import { leadPageUrl } from '../alert/consoleUrl';

/** What a digest says about one lead, read from the marketplace table columns (which the app's table has too). */
export interface DigestLead {
    time: string;
    leadId: string;
    origin: string;
    offer: string;
    company: string;
    title: string;
    country: string;
    firstName: string;
    lastName: string;
    email: string;
    phone: string;
    description: string;
    /** Campaign values found in the lead, as `mktcmpid=…, utm_source=…`; empty or absent when none. */
    campaign?: string;
    isTest: boolean;
    doNotContact: boolean;
    /** A lead that came back with new content: the fields that changed, and when it was first seen. */
    update?: { changed: string[]; firstSeen: string };
}

export interface Digest {
    subject: string;
    text: string;
    html: string;
}

function text(value: unknown): string {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- table cells are strings, numbers, booleans or dates
    return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

function customerInfo(value: unknown): Record<string, unknown> {
    try {
        const parsed: unknown = JSON.parse(text(value));
        return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch {
        return {};
    }
}

/** Reads a row of a leads table, the app's or the marketplace's own. */
export function digestLeadFrom(entity: object, time: string): DigestLead {
    const row = entity as Record<string, unknown>;
    const info = customerInfo(row.CustomerInfo);
    const parts = parseLeadSource(text(row.LeadSource));
    const source = text(row.Source) || parts.source;
    const action = text(row.ActionCode) || parts.action;
    const all = [text(row.LeadSource), text(info.Email), text(info.FirstName), text(info.Company)].join(' ');
    return {
        time,
        leadId: text(row.LeadId),
        origin: originInWords(source, action),
        offer: text(row.OfferDisplayName) || text(row.Offer) || parts.offer,
        company: text(info.Company),
        title: text(info.Title),
        country: text(info.Country),
        firstName: text(info.FirstName),
        lastName: text(info.LastName),
        email: text(info.Email),
        phone: text(info.Phone),
        description: text(row.Description),
        campaign: Object.entries(campaignOf(row))
            .map(([key, value]) => `${key}=${value}`)
            .join(', '),
        isTest: row.IsTest === true || /MSFT_TEST/i.test(all),
        doNotContact: row.DoNotContact === true || action.toUpperCase() === 'DNC',
    };
}

/**
 * No line breaks or control characters: lead text must never shape a mail header. Nor invisible
 * format characters: bidirectional overrides and isolates would reorder the text a reader sees
 * (an offer title could turn the rest of a Subject around), and zero-width ones hide text.
 */
export function oneLine(value: string): string {
    return (
        value
            .replace(/[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/g, '')
            // eslint-disable-next-line no-control-regex -- control characters are what this removes
            .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
            .replace(/\s+/g, ' ')
            .trim()
    );
}

export function escapeHtml(value: string): string {
    return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The row of a mail's entry that opens the lead in the console, when its address is known. */
export function pageLink(url: string | undefined): string {
    return url ? `<tr><th align="left" style="padding-right:12px">Console</th><td><a href="${escapeHtml(url)}">Open the lead</a></td></tr>` : '';
}

const maxSubjectOffers = 3;

/** "new", "updated", or "new or updated": what the leads of a digest are. */
function kindOf(leads: readonly DigestLead[]): string {
    const updated = leads.filter((lead) => lead.update).length;
    return updated === 0 ? 'new' : updated === leads.length ? 'updated' : 'new or updated';
}

/** "3 new marketplace leads — Contoso Analytics (2), Fabrikam CRM (1)". */
export function digestSubject(leads: readonly DigestLead[]): string {
    const counts = new Map<string, number>();
    for (const lead of leads) {
        const offer = oneLine(lead.offer) || 'unknown offer';
        counts.set(offer, (counts.get(offer) ?? 0) + 1);
    }
    const offers = [...counts].sort((a, b) => b[1] - a[1]);
    const named = offers.slice(0, maxSubjectOffers).map(([offer, count]) => `${offer.slice(0, 60)} (${count})`);
    const rest = offers.length > maxSubjectOffers ? `, and ${offers.length - maxSubjectOffers} more` : '';
    const noun = leads.length === 1 ? 'lead' : 'leads';
    return `${leads.length} ${kindOf(leads)} marketplace ${noun} — ${named.join(', ')}${rest}`;
}

function marks(lead: DigestLead): string[] {
    return [lead.update ? 'UPDATED' : '', lead.isTest ? 'TEST LEAD' : '', lead.doNotContact ? 'DO NOT CONTACT' : ''].filter(Boolean);
}

function entryLines(lead: DigestLead, pii: PiiMode): [string, string][] {
    const contact = contactFor(pii, lead);
    const where = [lead.company, lead.title, lead.country].map(oneLine).filter(Boolean).join(', ');
    const contactLine = [contact.name, contact.email, contact.phone].map(oneLine).filter(Boolean).join(' · ');
    const lines: [string, string][] = [
        ['When', lead.time],
        ['Source', lead.origin],
        ['Offer', oneLine(lead.offer)],
        ['Company', where],
        ['Contact', lead.doNotContact ? `do not contact${contactLine ? ` (${contactLine})` : ''}` : contactLine],
        ['Campaign', lead.campaign ?? ''],
        ['Changed', lead.update ? lead.update.changed.join(', ') || 'details' : ''],
        ['First seen', lead.update?.firstSeen ?? ''],
        ['Lead id', lead.leadId],
    ];
    return lines.filter(([, value]) => value !== '');
}

/**
 * One digest about a batch of new leads: a subject with the count and the offers, and a plain-text
 * and an HTML part with one entry per lead. Personal data appears as NOTIFY_PII says; all lead
 * text is escaped in the HTML.
 */
export function composeDigest(leads: readonly DigestLead[], pii: PiiMode, consoleUrl?: string): Digest {
    const pageOf = (lead: DigestLead) => (consoleUrl && lead.leadId ? leadPageUrl(consoleUrl, lead.leadId) : undefined);
    const subject = digestSubject(leads);
    const intro = `${leads.length} ${kindOf(leads)} ${leads.length === 1 ? 'lead has' : 'leads have'} arrived from the commercial marketplace.`;
    const textEntries = leads.map((lead, i) => {
        const heading = [`${i + 1}.`, ...marks(lead).map((m) => `[${m}]`)].join(' ');
        const page = pageOf(lead);
        return [heading, ...entryLines(lead, pii).map(([label, value]) => `   ${label}: ${oneLine(value)}`), ...(page ? [`   Console: ${page}`] : [])].join('\n');
    });
    const htmlEntries = leads.map((lead) => {
        const badges = marks(lead)
            .map((m) => `<strong style="color:#b00020">${escapeHtml(m)}</strong> `)
            .join('');
        const rows = entryLines(lead, pii)
            .map(([label, value]) => `<tr><th align="left" style="padding-right:12px">${escapeHtml(label)}</th><td>${escapeHtml(oneLine(value))}</td></tr>`)
            .join('');
        return `<li>${badges}<table>${rows}${pageLink(pageOf(lead))}</table></li>`;
    });
    const footer = pii === 'full' ? '' : 'Contact details are masked (NOTIFY_PII); see the leads table for the full lead.';
    return {
        subject,
        text: [intro, '', ...textEntries.flatMap((entry) => [entry, '']), footer].join('\n').trimEnd() + '\n',
        html: `<!doctype html><html><body><p>${escapeHtml(intro)}</p><ol>${htmlEntries.join('')}</ol>${footer ? `<p><small>${escapeHtml(footer)}</small></p>` : ''}</body></html>`,
    };
}
