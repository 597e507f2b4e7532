import { createHmac } from 'node:crypto';
import type { Settings } from '../../config/settings';
import type { Lead } from '../../lead/lead';
import type { DeliveryContext, DeliveryOutcome, Destination } from '../destination';
import { callExpectingSuccess } from '../http';

/** `X-Lead-Signature: sha256=<hex>`, an HMAC-SHA256 with WEBHOOK_SECRET over `<timestamp>.<body>`. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
    return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** The headers of every POST to the webhook: JSON, the idempotency key and, with a secret, the signature and its timestamp. */
export function webhookHeaders(secret: string | undefined, body: string, idempotencyKey: string): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'idempotency-key': idempotencyKey, 'user-agent': 'marketplace-leads' };
    if (secret) {
        const timestamp = String(Math.floor(Date.now() / 1000));
        headers['x-lead-timestamp'] = timestamp;
        headers['x-lead-signature'] = webhookSignature(secret, timestamp, body);
    }
    return headers;
}

/**
 * An update, for the receiver: the destination confirmed an earlier version, or one was sent that
 * may have arrived (its call failed or timed out after sending).
 */
function isUpdate(context: Pick<DeliveryContext, 'mode' | 'earlierVersions'>): boolean {
    return context.mode === 'update' || context.earlierVersions === true;
}

/**
 * The key a receiver drops retries by: the lead id for its first version, and the lead id with the
 * version for each later one, so that an update is never taken for a retry.
 */
export function idempotencyKeyFor(lead: Lead, context: Pick<DeliveryContext, 'mode' | 'earlierVersions'>): string {
    return isUpdate(context) ? `${lead.id}.${lead.version}` : lead.id;
}

/** POSTs the normalised lead as JSON to WEBHOOK_URL, with `"event": "created"` or `"updated"`; a 2xx means delivered. */
export class WebhookDestination implements Destination {
    readonly name = 'webhook';
    readonly maxCalls = 1;
    readonly idempotent = true;

    constructor(
        private readonly url: string,
        private readonly secret: string | undefined,
        private readonly timeoutMs: number,
    ) {}

    static create(settings: Settings): WebhookDestination {
        return new WebhookDestination(settings.WEBHOOK_URL ?? '', settings.WEBHOOK_SECRET, settings.DELIVERY_TIMEOUT_SECONDS * 1000);
    }

    async deliver(lead: Lead, context: DeliveryContext): Promise<DeliveryOutcome> {
        const body = JSON.stringify({ event: isUpdate(context) ? 'updated' : 'created', ...lead });
        const headers = webhookHeaders(this.secret, body, idempotencyKeyFor(lead, context));
        await callExpectingSuccess(this.url, { method: 'POST', headers, body, timeoutMs: this.timeoutMs, service: 'The webhook', signal: context.signal });
        return { state: 'delivered' };
    }
}
