import { DeliveryFailure } from './destination';

export interface CallOptions {
    method?: string;
    headers?: Record<string, string>;
    body?: string | URLSearchParams;
    timeoutMs: number;
    /** Names the service in failure messages: "the webhook", "HubSpot". */
    service: string;
    /** Ends the call early too: the delivery's lease is running out. */
    signal?: AbortSignal;
}

/** Errors that mean the request never left: nothing can have reached the service. */
const notSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(error: unknown): string | undefined {
    const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
    return typeof cause?.code === 'string' ? cause.code : undefined;
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
    const timeout = AbortSignal.timeout(options.timeoutMs);
    try {
        return await fetch(url, {
            method: options.method ?? 'GET',
            headers: options.headers,
            body: options.body,
            signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
            redirect: 'manual',
        });
    } catch (error) {
        const timedOut = timeout.aborted;
        const stopped = !timedOut && options.signal?.aborted === true;
        const code = errorCode(error);
        const why = timedOut
            ? `did not answer within ${options.timeoutMs} ms`
            : stopped
              ? 'was still busy when the delivery had to stop (its lease was running out)'
              : `could not be reached (${code ?? (error as Error).name})`;
        const uncertain = timedOut || stopped || code === undefined || !notSentCodes.has(code);
        throw new DeliveryFailure(`${options.service} ${why}`, 'transient', undefined, uncertain);
    }
}

/** Calls and expects a 2xx; anything else becomes a DeliveryFailure. */
export async function callExpectingSuccess(url: string | URL, options: CallOptions): Promise<Response> {
    const response = await call(url, options);
    if (!response.ok) throw await failureFor(response, options.service);
    return response;
}
