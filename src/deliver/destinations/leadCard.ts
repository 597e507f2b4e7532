import { consoleUrl, leadPageUrl } from '../../alert/consoleUrl';
import type { Settings } from '../../config/settings';
import type { Lead } from '../../lead/lead';
import { contactFor } from '../../notify/mask';
import { oneLine } from '../../notify/digest';
import { originInWords } from '../../notify/words';
import { DeliveryFailure, type DeliveryContext, type DeliveryOutcome } from '../destination';
import type { CallOptions } from '../http';

/** What a channel post says about a lead, before either format escapes it. Values are lead text, unescaped. */
export interface LeadPost {
    /** "New marketplace lead" or "Updated marketplace lead". */
    title: string;
    /** `UPDATED`, `TEST LEAD`, `DO NOT CONTACT`, in that order, as the digest marks them. */
    marks: string[];
    offer: string;
    /** Source and action in words: "AppSource — contact me (PLT)". */
    origin: string;
    facts: { label: string; value: string }[];
    /** Why contact details are missing or partial; empty with NOTIFY_PII=full. */
    note: string;
    /** The lead's page in the console. */
    link?: { title: string; url: string };
    /** One plain line for notifications and clients that cannot show cards. */
    summary: string;
}

/** Long enough for any real company or title; short enough that a post stays far below Teams' 28 KB and Slack's block limits. */
const maxValueLength = 200;

/** One line, at most `maxValueLength` characters, cut between code points so that no surrogate pair is split. */
function shortened(value: string): string {
    const chars = Array.from(oneLine(value));
    return chars.length > maxValueLength ? `${chars.slice(0, maxValueLength - 1).join('')}…` : chars.join('');
}

/**
 * The content of a lead's post, the same in Teams and Slack. Contact details follow NOTIFY_PII as
 * the digest does; a do-not-contact lead (only posted when DNC_DESTINATIONS names the channel)
 * shows none at any level, since nobody may use them.
 */
export function leadPost(lead: Lead, mode: DeliveryContext['mode'], settings: Pick<Settings, 'NOTIFY_PII'>, consoleUrl: string | undefined): LeadPost {
    const { customer } = lead;
    const marks = [mode === 'update' ? 'UPDATED' : '', lead.isTest ? 'TEST LEAD' : '', lead.doNotContact ? 'DO NOT CONTACT' : ''].filter(Boolean);
    const pii = lead.doNotContact ? 'none' : settings.NOTIFY_PII;
    const contact = contactFor(pii, customer);
    const offer = shortened(lead.offerTitle || lead.offer) || 'unknown offer';
    const facts = [
        { label: 'Company', value: customer.company },
        { label: 'Title', value: customer.title },
        { label: 'Country', value: customer.country },
        { label: 'Name', value: contact.name },
        { label: 'E-mail', value: contact.email },
        { label: 'Phone', value: contact.phone },
        { label: 'Contact', value: lead.doNotContact ? 'do not contact' : '' },
        { label: 'Lead id', value: lead.id },
    ]
        .map(({ label, value }) => ({ label, value: shortened(value) }))
        .filter(({ value }) => value !== '');
    const note = lead.doNotContact ? 'The customer asked not to be contacted.' : pii === 'masked' ? 'Contact details are masked (NOTIFY_PII).' : pii === 'none' ? 'Contact details are not shown (NOTIFY_PII).' : '';
    const title = mode === 'update' ? 'Updated marketplace lead' : 'New marketplace lead';
    const company = shortened(customer.company);
    return {
        title,
        marks,
        offer,
        origin: shortened(originInWords(lead.source, lead.action)),
        facts,
        note,
        link: consoleUrl ? { title: 'Open in the console', url: leadPageUrl(consoleUrl, lead.id) } : undefined,
        summary: [`${title}: ${offer}`, company ? `from ${company}` : '', ...marks.map((m) => `[${m}]`)].filter(Boolean).join(' '),
    };
}

/** Every `&`, `<` and `>` as the entity both formats decode: no tag, mention or `<url|text>` link can form. */
export function escapeAngles(value: string): string {
    return value.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/**
 * A word joiner after the `@` of `@here`, `@channel`, `@everyone` and `@all`: it looks the same,
 * but no client takes it for a mention that notifies a whole channel.
 */
export function defuseBroadcasts(value: string): string {
    return value.replace(/@(?=(?:here|channel|everyone|all)(?![A-Za-z0-9]))/gi, '@\u2060');
}

/**
 * Neither Teams Workflows nor Slack webhooks can tell a retry from a new post. A call that may
 * have reached them before failing (a time-out, a reset connection) is therefore `uncertain`, as for
 * Salesforce Web-to-Lead: an operator checks the channel before replaying it, rather than a retry
 * posting the lead twice. Any other error is thrown on.
 */
export function uncertainOrThrow(error: unknown, channel: string): DeliveryOutcome {
    if (error instanceof DeliveryFailure && error.uncertain) return { state: 'uncertain', reason: `${error.message.replace(/\.$/, '')}; the ${channel} channel may show the lead already.` };
    throw error;
}

/** What both channels read of the settings. */
export interface ChannelSettings {
    url: string;
    pii: Pick<Settings, 'NOTIFY_PII'>;
    consoleUrl: string | undefined;
    timeoutMs: number;
}

export function channelSettings(settings: Settings, url: string | undefined, env: Record<string, string | undefined>): ChannelSettings {
    return { url: url ?? '', pii: settings, consoleUrl: consoleUrl(settings, env), timeoutMs: settings.DELIVERY_TIMEOUT_SECONDS * 1000 };
}

/** The lead's post for this delivery, and the options of the one POST that carries `body`. */
export function channelPost(lead: Lead, context: DeliveryContext, channel: ChannelSettings): LeadPost {
    return leadPost(lead, context.mode, channel.pii, channel.consoleUrl);
}

export function jsonPost(channel: ChannelSettings, body: unknown, service: string, signal: AbortSignal | undefined): CallOptions {
    return { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body), timeoutMs: channel.timeoutMs, service, signal };
}
