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

/**
 * What a refusal may tell the log and the delivery record. Error bodies and their messages are
 * never kept: services echo the request in them, with the customer's name, e-mail and phone.
 */
export interface ErrorDetail {
    category?: string;
    codes?: readonly string[];
    fields?: readonly string[];
}

/** Reads the vendor's documented error shape from a parsed error body. */
export type ErrorReader = (body: unknown) => ErrorDetail;

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

export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Codes and field names are identifiers; anything else (a sentence, an e-mail, a phone number) is dropped. */
const identifier = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The distinct identifiers among `values`, a string or an array of them; anything else is ignored. */
export function identifiers(...values: unknown[]): string[] {
    const flat = values.flatMap((value) => (Array.isArray(value) ? (value as unknown[]) : [value]));
    return [...new Set(flat.filter((value): value is string => typeof value === 'string' && identifier.test(value)))];
}

function quoted(singular: string, plural: string, values: readonly string[] | undefined): string {
    const safe = identifiers(values ?? []);
    if (safe.length === 0) return '';
    return `${safe.length === 1 ? singular : plural} ${safe.map((v) => `"${v}"`).join(', ')}`;
}

/** `category "X", error code "Y", field "email"`, or '' when the detail holds nothing safe to say. */
export function describeDetail(detail: ErrorDetail): string {
    return [...identifiers(detail.category).map((c) => `category "${c}"`), quoted('error code', 'error codes', detail.codes), quoted('field', 'fields', detail.fields)].filter(Boolean).join(', ');
}

async function jsonBody(response: Response): Promise<unknown> {
    const text = await response.text().catch(() => '');
    try {
        return JSON.parse(text) as unknown;
    } catch {
        return undefined;
    }
}

/**
 * A failure for a non-2xx response, transient or permanent by its status. The message carries the
 * status and, with a reader, the vendor's error codes and field names: never the body.
 */
export async function failureFor(response: Response, service: string, read?: ErrorReader): Promise<DeliveryFailure> {
    const detail = read ? describeDetail(read(await jsonBody(response))) : '';
    if (!read) await response.body?.cancel().catch(() => undefined);
    const message = `${service} answered ${response.status}${detail ? ` with ${detail}` : ''}.`;
    return new DeliveryFailure(message, isTransientStatus(response.status) ? 'transient' : 'permanent', retryAfterMs(response.headers.get('retry-after')));
}

/**
 * Why fetch failed, by error code only (ECONNREFUSED, UND_ERR_SOCKET): the messages of fetch's
 * errors can quote the URL, whose path may hold an e-mail, or a header value, which may be a secret.
 */
export function networkErrorCode(error: unknown): string {
    const cause: unknown = error instanceof Error && error.cause !== undefined ? error.cause : error;
    const [safe] = identifiers(isRecord(cause) ? cause.code : undefined, cause instanceof Error ? cause.name : undefined);
    return safe ?? 'unknown error';
}

/**
 * Makes one outbound call with a timeout. Network errors and timeouts become transient failures;
 * the response, whatever its status, is returned for the caller to read.
 */
/** Aborts after `timeoutMs`, or when `signal` does (the delivery's lease, a check's deadline). */
export function within(timeout: AbortSignal, signal: AbortSignal | undefined): AbortSignal {
    return signal ? AbortSignal.any([timeout, signal]) : timeout;
}

export async function call(url: string | URL, options: CallOptions): Promise<Response> {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    try {
        return await fetch(url, {
            method: options.method ?? 'GET',
            headers: options.headers,
            body: options.body,
            signal: within(timeout, options.signal),
            redirect: 'manual',
        });
    } catch (error) {
        const timedOut = timeout.aborted;
        const stopped = !timedOut && options.signal?.aborted === true;
        const code = errorCode(error);
        const origin = URL.canParse(String(url)) ? new URL(url).origin : 'its URL';
        const why = timedOut
            ? `did not answer within ${options.timeoutMs} ms`
            : stopped
              ? 'was still busy when the delivery had to stop (its lease was running out)'
              : `could not be reached at ${origin} (${networkErrorCode(error)})`;
        const uncertain = timedOut || stopped || code === undefined || !notSentCodes.has(code);
        throw new DeliveryFailure(`${options.service} ${why}.`, 'transient', undefined, uncertain);
    }
}

/** Calls and expects a 2xx; anything else becomes a DeliveryFailure naming only the status (and what `read` finds). */
export async function callExpectingSuccess(url: string | URL, options: CallOptions, read?: ErrorReader): Promise<Response> {
    const response = await call(url, options);
    if (!response.ok) throw await failureFor(response, options.service, read);
    return response;
}

/** `{"error":{"code":…,"message":…}}`, as Dataverse and Power Automate answer: the code only, as the message can quote values. */
export function nestedErrorCode(body: unknown): ErrorDetail {
    return { codes: isRecord(body) && isRecord(body.error) ? identifiers(body.error.code) : [] };
}
