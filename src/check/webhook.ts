import type { Settings } from '../config/settings';
import { webhookHeaders } from '../deliver/destinations/webhook';
import { CheckProblem, type CheckOptions } from './checkResult';
import { probeCall, refusedProblem } from './probe';

const fix = 'check WEBHOOK_URL, and that the receiver is up and its certificate valid';

/**
 * The receiver answers at WEBHOOK_URL (over TLS, for https): any answer to a HEAD will do. With
 * WEBHOOK_PING, a signed `{"event":"ping"}` POST that it must answer with a 2xx.
 */
export async function checkWebhook(settings: Settings, { signal }: CheckOptions): Promise<string> {
    const url = settings.WEBHOOK_URL ?? '';
    const timeoutMs = settings.DELIVERY_TIMEOUT_SECONDS * 1000;
    const tls = url.startsWith('https:') ? ' over TLS' : '';
    if (!settings.WEBHOOK_PING) {
        const response = await probeCall(url, { method: 'HEAD', timeoutMs, service: 'The webhook', signal }, fix);
        await response.body?.cancel().catch(() => undefined);
        if (response.status >= 500) throw new CheckProblem(`The webhook answered HEAD with ${response.status}: check that the receiver is up; WEBHOOK_PING=true tests it with a signed POST.`, 'warning');
        return `The webhook answered${tls} (HEAD: ${response.status}); set WEBHOOK_PING=true to test it with a signed ping.`;
    }
    const body = JSON.stringify({ event: 'ping', at: new Date().toISOString() });
    const response = await probeCall(url, { method: 'POST', headers: webhookHeaders(settings.WEBHOOK_SECRET, body, `ping-${Date.now()}`), body, timeoutMs, service: 'The webhook', signal }, fix);
    if (!response.ok) throw await refusedProblem(response, 'The webhook', 'check that the receiver takes the "ping" event (answer 2xx and ignore it) and WEBHOOK_SECRET');
    await response.body?.cancel().catch(() => undefined);
    return `The webhook answered the signed ping${tls} with ${response.status}.`;
}
