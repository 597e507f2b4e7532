import { createHmac } from 'node:crypto';
import type { Settings } from '../../config/settings';
import type { Lead } from '../../lead/lead';
import type { DeliveryOutcome, Destination } from '../destination';
import { callExpectingSuccess } from '../http';

/** `X-Lead-Signature: sha256=<hex>`, an HMAC-SHA256 with WEBHOOK_SECRET over `<timestamp>.<body>`. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
    return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** POSTs the normalised lead as JSON to WEBHOOK_URL; a 2xx means delivered. */
export class WebhookDestination implements Destination {
    readonly name = 'webhook';

    constructor(
        private readonly url: string,
        private readonly secret: string | undefined,
        private readonly timeoutMs: number,
    ) {}

    static create(settings: Settings): WebhookDestination {
        return new WebhookDestination(settings.WEBHOOK_URL ?? '', settings.WEBHOOK_SECRET, settings.DELIVERY_TIMEOUT_SECONDS * 1000);
    }

    async deliver(lead: Lead): Promise<DeliveryOutcome> {
        const body = JSON.stringify(lead);
        const headers: Record<string, string> = {
            'content-type': 'application/json; charset=utf-8',
            'idempotency-key': lead.id,
            'user-agent': 'marketplace-leads',
        };
        if (this.secret) {
            const timestamp = String(Math.floor(Date.now() / 1000));
            headers['x-lead-timestamp'] = timestamp;
            headers['x-lead-signature'] = webhookSignature(this.secret, timestamp, body);
        }
        await callExpectingSuccess(this.url, { method: 'POST', headers, body, timeoutMs: this.timeoutMs, service: 'The webhook' });
        return { state: 'delivered' };
    }
}
