import { escapeHtml, oneLine, pageLink, type Digest } from '../notify/digest';
import { leadPageUrl } from './consoleUrl';
import type { AlertEvent, AlertKind } from './alertEvent';

/** What the operator needs to know about the rest of the mail. */
export interface AlertContext {
    consoleUrl: string;
    /** Events of this kind waiting beyond this mail's (a batch holds at most 99): they follow in the next one. */
    more: number;
    failingMinutes: number;
    quietHours: number | undefined;
}

const headings: Record<AlertKind, (count: number, context: AlertContext) => string> = {
    poisoned: (count) => `${count} ${count === 1 ? 'lead was' : 'leads were'} moved to the poison queue`,
    failing: (count, { failingMinutes }) => `${count} ${count === 1 ? 'delivery has' : 'deliveries have'} been failing for ${failingMinutes} minute(s) or more`,
    'set-aside': (count) => `${count} ${count === 1 ? 'item was' : 'items were'} set aside by the digest`,
    quiet: (_count, { quietHours }) => `No lead has arrived for ${quietHours ?? '?'} hour(s)`,
    'mail-down': (count) => (count === 1 ? 'Digests could not be sent' : `Digests could not be sent, ${count} times`),
    check: (count) => `${count} destination ${count === 1 ? 'check fails' : 'checks fail'}: what goes there would not arrive`,
};

const advice: Record<AlertKind, string> = {
    poisoned: 'Fix the cause, then run "npm run leads -- replay-poison" (see "npm run leads -- status <lead id>" for each).',
    failing: 'The leads are still being retried; they go to the poison queue if the destination does not recover.',
    'set-aside': 'See "npm run leads -- set-aside".',
    quiet: 'The marketplace may no longer reach the endpoint: check the lead destination of your offers in Partner Center.',
    'mail-down':
        'No lead was set aside: the leads wait and are mailed, each once, when the mail server takes the digest again. Check the sender (NOTIFY_FROM), the account and the mail server by the reply codes above; the console shows whether mail is still failing.',
    check: 'Fix the setting each reason names, then run "npm run leads -- check" to see it pass; no lead was sent by the check.',
};

function linesOf(event: AlertEvent): [string, string][] {
    const lines: [string, string][] = [
        ['When', event.at],
        ['Lead id', event.leadId ?? ''],
        ['Offer', event.offer ?? ''],
        ['Destination', event.destination ?? ''],
        ['Recipient', event.recipient ?? ''],
        ['Reason', event.reason],
    ];
    return lines.map(([label, value]): [string, string] => [label, oneLine(value)]).filter(([, value]) => value !== '');
}

/**
 * The mail about the events of one kind: a subject with the count, one entry per event (lead
 * ids, offers, destinations and reasons only: never a customer's details), and the console link.
 */
export function composeAlert(kind: AlertKind, events: readonly AlertEvent[], context: AlertContext): Digest {
    const heading = headings[kind](events.length, context);
    const more = context.more > 0 ? `${context.more} more are waiting and follow in the next alert mail.` : '';
    const footer = [advice[kind], more, `Console: ${context.consoleUrl}`].filter(Boolean);
    const pageOf = (event: AlertEvent) => (event.leadId ? leadPageUrl(context.consoleUrl, event.leadId) : undefined);
    const textEntries = events.map((event, i) => {
        const page = pageOf(event);
        return [`${i + 1}.`, ...linesOf(event).map(([label, value]) => `   ${label}: ${value}`), ...(page ? [`   Console: ${page}`] : [])].join('\n');
    });
    const htmlEntries = events.map(
        (event) =>
            `<li><table>${linesOf(event)
                .map(([label, value]) => `<tr><th align="left" style="padding-right:12px">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`)
                .join('')}${pageLink(pageOf(event))}</table></li>`,
    );
    const link = escapeHtml(context.consoleUrl);
    return {
        subject: `Marketplace leads alert: ${heading}`,
        text: [`${heading}.`, '', ...textEntries.flatMap((entry) => [entry, '']), ...footer].join('\n') + '\n',
        html: `<!doctype html><html><body><p>${escapeHtml(heading)}.</p><ol>${htmlEntries.join('')}</ol>${footer
            .slice(0, -1)
            .map((line) => `<p>${escapeHtml(line)}</p>`)
            .join('')}<p><a href="${link}">Open the console</a> (${link})</p></body></html>`,
    };
}
