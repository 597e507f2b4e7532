import type { Settings } from '../config/settings';
import { workflowsError } from '../deliver/destinations/teams';
import { DeliveryLog } from '../deliver/deliveryLog';
import { CheckProblem, type CheckOptions } from './checkResult';
import { probeCall, refusedProblem } from './probe';

interface Channel {
    name: 'teams' | 'slack';
    service: string;
    setting: 'TEAMS_WEBHOOK_URL' | 'SLACK_WEBHOOK_URL';
    /** Why a URL is not the channel's kind, or undefined when its form is right. */
    formProblem(url: URL): string | undefined;
    testMessage: unknown;
}

const loopback = new Set(['localhost', '127.0.0.1', '[::1]']);
const testText = 'Test message from marketplace-leads: npm run leads -- check --post. No lead is attached.';

const channels: Record<Channel['name'], Channel> = {
    teams: {
        name: 'teams',
        service: 'Teams',
        setting: 'TEAMS_WEBHOOK_URL',
        formProblem: (url) =>
            url.hostname.endsWith('.webhook.office.com')
                ? 'is an Office 365 connector URL, which Microsoft retired: create a Workflows "When a Teams webhook request is received" flow and use its URL'
                : /\.(logic\.azure\.com|api\.powerplatform\.com)$/.test(url.hostname) && url.searchParams.has('sig')
                  ? undefined
                  : 'does not look like a Workflows webhook URL (https://….logic.azure.com or ….api.powerplatform.com, with sig=)',
        testMessage: {
            type: 'message',
            attachments: [
                {
                    contentType: 'application/vnd.microsoft.card.adaptive',
                    content: { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: testText, wrap: true }] },
                },
            ],
        },
    },
    slack: {
        name: 'slack',
        service: 'Slack',
        setting: 'SLACK_WEBHOOK_URL',
        formProblem: (url) =>
            /^hooks\.slack(-gov)?\.com$/.test(url.hostname) && /^\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+$/.test(url.pathname)
                ? undefined
                : 'does not look like an incoming-webhook URL (https://hooks.slack.com/services/T…/B…/…)',
        testMessage: { text: testText },
    },
};

/** When the channel last took a lead's post, from the delivery records of the last 30 days. */
async function lastPost(settings: Settings, name: Channel['name']): Promise<string> {
    const log = await DeliveryLog.connect(settings.storage, settings.DELIVERIES_TABLE);
    const last = (await log.completedSince(name, 'delivered', new Date(Date.now() - 30 * 86_400_000))).at(-1);
    return last ? `the last lead was posted at ${last}` : 'no lead was posted in the last 30 days';
}

/**
 * The URL's form (its path is its secret, so it is never shown), and when a lead was last posted.
 * Only with `--post` a test message goes to the channel, where people see it.
 */
export async function checkChannel(name: Channel['name'], settings: Settings, { signal, post }: CheckOptions): Promise<string> {
    const channel = channels[name];
    const url = new URL(settings[channel.setting] ?? '');
    const local = loopback.has(url.hostname);
    if (url.protocol !== 'https:' && !local) throw new CheckProblem(`${channel.setting} is not an https URL.`);
    const problem = local ? undefined : channel.formProblem(url);
    if (problem) throw new CheckProblem(`${channel.setting} ${problem}.`, url.hostname.endsWith('.webhook.office.com') ? 'failing' : 'warning');
    const history = await lastPost(settings, name);
    if (!post) return `The URL's form is right; ${history} (--post sends a test message).`;
    const response = await probeCall(
        url,
        {
            method: 'POST',
            headers: { 'content-type': 'application/json; charset=utf-8' },
            body: JSON.stringify(channel.testMessage),
            timeoutMs: settings.DELIVERY_TIMEOUT_SECONDS * 1000,
            service: channel.service,
            signal,
        },
        `check ${channel.setting}`,
    );
    if (!response.ok) throw await refusedProblem(response, channel.service, `check ${channel.setting} (the flow or app may have been deleted or turned off)`, name === 'teams' ? workflowsError : undefined);
    await response.body?.cancel().catch(() => undefined);
    return `${channel.service} took the test message (${response.status}); ${history}.`;
}
