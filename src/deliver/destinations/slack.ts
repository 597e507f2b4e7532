import type { Settings } from '../../config/settings';
import type { Lead } from '../../lead/lead';
import { oneLine } from '../../notify/digest';
import { DeliveryFailure, type DeliveryContext, type DeliveryOutcome, type Destination } from '../destination';
import { call, describeDetail, isTransientStatus, retryAfterMs } from '../http';
import { channelPost, channelSettings, defuseBroadcasts, escapeAngles, jsonPost, uncertainOrThrow, type ChannelSettings, type LeadPost } from './leadCard';

/** Look-alikes for mrkdwn's markers, the ones jsx-slack uses: Slack has no escape for them. */
const lookAlikes: Record<string, string> = { '*': '\u2217', _: '\u02cd', '~': '\u223c', '`': '\u02cb' };

/**
 * Lead text for a mrkdwn text object. `&`, `<` and `>` become the entities Slack documents, so no
 * `<!channel>`, `<@U123>` or `<http://evil|click>` can form; `@here` and the like get a word joiner.
 * Slack has no escape for `*`, `_`, `~` and `` ` ``, so each becomes a look-alike; only an `_`
 * between two ASCII letters or digits stays, where Slack never formats it (an e-mail's `first_last`).
 */
export function escapeMrkdwn(value: string): string {
    const text = escapeAngles(oneLine(value)).replace(/[*_~`]/g, (marker, at: number, all: string) =>
        marker === '_' && /[A-Za-z0-9]/.test(all[at - 1] ?? '') && /[A-Za-z0-9]/.test(all[at + 1] ?? '') ? marker : (lookAlikes[marker] ?? marker),
    );
    return defuseBroadcasts(text);
}

type Block = Record<string, unknown>;

/** `verbatim`: Slack neither links URLs and channel names nor parses mentions in lead text. */
function mrkdwn(text: string): Block {
    return { type: 'mrkdwn', text, verbatim: true };
}

/** Section fields hold at most ten entries. */
const maxFields = 10;

/** The incoming-webhook body of a lead's post: `text` for notifications, and blocks with the same content. */
export function slackMessage(post: LeadPost): { text: string; blocks: Block[]; unfurl_links: false; unfurl_media: false } {
    const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: post.title, emoji: false } }];
    if (post.marks.length > 0) blocks.push({ type: 'context', elements: [mrkdwn(post.marks.map((m) => `*${m}*`).join('   '))] });
    blocks.push({
        type: 'section',
        text: mrkdwn(`*${escapeMrkdwn(post.offer)}*\n${escapeMrkdwn(post.origin)}`),
        fields: post.facts.slice(0, maxFields).map(({ label, value }) => mrkdwn(`*${label}:* ${escapeMrkdwn(value)}`)),
    });
    if (post.note) blocks.push({ type: 'context', elements: [mrkdwn(post.note)] });
    if (post.link) blocks.push({ type: 'actions', elements: [{ type: 'button', action_id: 'open-lead', text: { type: 'plain_text', text: post.link.title, emoji: false }, url: post.link.url }] });
    // Unfurling would have Slack fetch the console's page, or a URL in the lead text.
    return { text: escapeMrkdwn(post.summary), blocks, unfurl_links: false, unfurl_media: false };
}

/** Slack's webhook errors are a bare snake_case code (`invalid_payload`, `no_service`); any other body is dropped unread. */
export function slackErrorCode(body: string): string | undefined {
    const code = body.trim();
    return /^[a-z]+(?:_[a-z]+)+$/.test(code) && code.length <= 64 ? code : undefined;
}

async function slackFailure(response: Response): Promise<DeliveryFailure> {
    const code = slackErrorCode(await response.text().catch(() => ''));
    const detail = code ? describeDetail({ codes: [code] }) : '';
    const kind = isTransientStatus(response.status) ? 'transient' : 'permanent';
    return new DeliveryFailure(`Slack answered ${response.status}${detail ? ` with ${detail}` : ''}.`, kind, retryAfterMs(response.headers.get('retry-after')));
}

/**
 * Posts a message with blocks to a Slack channel through an incoming webhook (SLACK_WEBHOOK_URL).
 * Slack answers 200 `ok`, or an error status with a plain-text code: 429 (with Retry-After) and
 * 5xx are retried; `invalid_payload` (400), `action_prohibited` (403), `channel_not_found` and
 * `no_service` (404), `channel_is_archived` (410) are not.
 */
export class SlackDestination implements Destination {
    readonly name = 'slack';
    readonly maxCalls = 1;
    /** An incoming webhook posts every request it takes. */
    readonly idempotent = false;

    constructor(private readonly channel: ChannelSettings) {}

    static create(settings: Settings): SlackDestination {
        return new SlackDestination(channelSettings(settings, settings.SLACK_WEBHOOK_URL, process.env));
    }

    async deliver(lead: Lead, context: DeliveryContext): Promise<DeliveryOutcome> {
        const message = slackMessage(channelPost(lead, context, this.channel));
        let response: Response;
        try {
            response = await call(this.channel.url, jsonPost(this.channel, message, 'Slack', context.signal));
        } catch (error) {
            return uncertainOrThrow(error, 'Slack');
        }
        if (!response.ok) throw await slackFailure(response);
        await response.body?.cancel().catch(() => undefined);
        return { state: 'delivered' };
    }
}
