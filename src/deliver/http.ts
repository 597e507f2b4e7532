import { DeliveryFailure } from './destination';

export interface CallOptions {
    method?: string;
    headers?: Record<string, string>;
    body?: string | URLSearchParams;
    timeoutMs: number;
    /** Names the service in failure messages: "the webhook", "HubSpot". */
    service: string;
}

/** Seconds or an HTTP date, as Retry-After carries them. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
    if (!header) return undefined;
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(header);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** 408, 429 and 5xx may pass; any other 4xx says the request itself is wrong. */
export function isTransientStatus(status: number): boolean {
    return status === 408 || status === 429 || status >= 500;
}

/** Error bodies may echo the lead back: e-mail addresses and long digit runs are masked. */
export function redact(text: string): string {
    return text.replace(/[^\s"'<>@,;:]+@[^\s"'<>@,;:]+/g, '[e-mail]').replace(/\+?\d[\d ().-]{6,}\d/g, '[number]');
}

/** The first part of an error body, for the delivery record: services explain themselves there. */
export function excerpt(text: string): string {
    const flat = redact(text.replace(/\s+/g, ' ').trim());
    return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

/** A failure for a non-2xx response, transient or permanent by its status. */
export async function failureFor(response: Response, service: string): Promise<DeliveryFailure> {
    const detail = excerpt(await response.text().catch(() => ''));
    const message = `${service} answered ${response.status}${detail ? `: ${detail}` : ''}`;
    return new DeliveryFailure(message, isTransientStatus(response.status) ? 'transient' : 'permanent', retryAfterMs(response.headers.get('retry-after')));
}

/**
 * Makes one outbound call with a timeout. Network errors and timeouts become transient failures;
 * the response, whatever its status, is returned for the caller to read.
 */
export async function call(url: string | URL, options: CallOptions): Promise<Response> {
    try {
        return await fetch(url, {
            method: options.method ?? 'GET',
            headers: options.headers,
            body: options.body,
            signal: AbortSignal.timeout(options.timeoutMs),
            redirect: 'manual',
        });
    } catch (error) {
        const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
        const why = timedOut ? `did not answer within ${options.timeoutMs} ms` : `could not be reached (${String((error as Error).cause ?? error)})`;
        throw new DeliveryFailure(`${options.service} ${why}`, 'transient');
    }
}

/** Calls and expects a 2xx; anything else becomes a DeliveryFailure. */
export async function callExpectingSuccess(url: string | URL, options: CallOptions): Promise<Response> {
    const response = await call(url, options);
    if (!response.ok) throw await failureFor(response, options.service);
    return response;
}
