import type { Settings } from '../../config/settings';
import type { Lead } from '../../lead/lead';
import { oneLine } from '../../notify/digest';
import type { DeliveryContext, DeliveryOutcome, Destination } from '../destination';
import { callExpectingSuccess, nestedErrorCode, type ErrorReader } from '../http';
import { channelPost, channelSettings, defuseBroadcasts, escapeAngles, jsonPost, uncertainOrThrow, type ChannelSettings, type LeadPost } from './leadCard';

/**
 * Lead text for a TextBlock or a Fact, whose markdown (a CommonMark subset) would otherwise render
 * `*bold*`, `_italic_`, `[text](url)` links and `- ` or `1. ` lists. Renderers decode `&amp;`,
 * `&lt;` and `&gt;`, so no `<at>` mention can form; every character that can open or close
 * inline markup is backslash-escaped, `{` and `}` too, so that `{{DATE(…)}}` is not evaluated.
 * Escaping both `]` and `(` breaks a link even for a renderer that ignores backslashes.
 */
export function escapeTextBlock(value: string): string {
    const escaped = defuseBroadcasts(escapeAngles(oneLine(value)).replace(/[\\`*_~[\](){}]/g, '\\$&'));
    // Block markers count only at the start of a text: a heading, a bullet or a numbered list item.
    return escaped.replace(/^(?:[-+#]|(\d+)([.)]))/, (marker, digits?: string, dot?: string) => (digits && dot ? `${digits}\\${dot}` : `\\${marker}`));
}

type CardElement = Record<string, unknown>;

/** The adaptive card (schema 1.4, which Teams renders everywhere) of a lead's post. */
export function leadCard(post: LeadPost): CardElement {
    const body: CardElement[] = [{ type: 'TextBlock', text: post.title, weight: 'Bolder', size: 'Medium', wrap: true }];
    if (post.marks.length > 0) body.push({ type: 'TextBlock', text: post.marks.join(' · '), weight: 'Bolder', color: 'Attention', spacing: 'None', wrap: true });
    body.push(
        { type: 'TextBlock', text: escapeTextBlock(post.offer), weight: 'Bolder', wrap: true },
        { type: 'TextBlock', text: escapeTextBlock(post.origin), isSubtle: true, spacing: 'None', wrap: true },
        { type: 'FactSet', facts: post.facts.map(({ label, value }) => ({ title: label, value: escapeTextBlock(value) })) },
    );
    if (post.note) body.push({ type: 'TextBlock', text: post.note, isSubtle: true, size: 'Small', wrap: true });
    return {
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        type: 'AdaptiveCard',
        version: '1.4',
        body,
        actions: post.link ? [{ type: 'Action.OpenUrl', title: post.link.title, url: post.link.url }] : [],
    };
}

/** The body a Workflows "When a Teams webhook request is received" trigger posts to its channel: a message with one card. */
export function teamsMessage(post: LeadPost): { type: 'message'; attachments: { contentType: string; content: CardElement }[] } {
    return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: leadCard(post) }] };
}

/**
 * A Workflows trigger refuses with Logic Apps' `{"error":{"code":"…","message":…}}`; the message
 * can quote the request, so only the code is kept.
 */
export const workflowsError: ErrorReader = nestedErrorCode;

/**
 * Posts an adaptive card to a Teams channel through a Workflows webhook (TEAMS_WEBHOOK_URL), which
 * answers 202 once the flow has taken the request: the flow posts the card after that.
 */
export class TeamsDestination implements Destination {
    readonly name = 'teams';
    readonly maxCalls = 1;
    /** A Workflows webhook runs the flow for every request it takes. */
    readonly idempotent = false;

    constructor(private readonly channel: ChannelSettings) {}

    static create(settings: Settings): TeamsDestination {
        return new TeamsDestination(channelSettings(settings, settings.TEAMS_WEBHOOK_URL, process.env));
    }

    async deliver(lead: Lead, context: DeliveryContext): Promise<DeliveryOutcome> {
        const message = teamsMessage(channelPost(lead, context, this.channel));
        try {
            const response = await callExpectingSuccess(this.channel.url, jsonPost(this.channel, message, 'Teams', context.signal), workflowsError);
            await response.body?.cancel().catch(() => undefined);
        } catch (error) {
            return uncertainOrThrow(error, 'Teams');
        }
        return { state: 'delivered' };
    }
}
