import { settingsSchema } from '../config/settings';
import { DeliveryFailure } from '../deliver/destination';
import { call, failureFor, type CallOptions, type ErrorReader } from '../deliver/http';
import { CheckProblem } from './checkResult';

/** `message` (ending in a full stop) with what to do after a colon. */
export function withFix(message: string, fix: string): string {
    return `${message.replace(/\.$/, '')}: ${fix}.`;
}

/**
 * A refusal as a check problem: 429 says the service works but throttles (a warning), any other
 * status that the setting named in `fix` is wrong. The message is `failureFor`'s: the status and
 * the vendor's codes, never the body.
 */
export async function refusedProblem(response: Response, service: string, fix: string, read?: ErrorReader): Promise<CheckProblem> {
    const failure = await failureFor(response, service, read);
    if (response.status === 429) return new CheckProblem(withFix(failure.message, 'the service is throttling this app; try again later, and check that nothing else uses up its API limits'), 'warning');
    return new CheckProblem(withFix(failure.message, fix));
}

/** A message that already says what to fix names a setting (an error code such as DEPTH_ZERO_SELF_SIGNED_CERT does not count). */
function namesSetting(message: string): boolean {
    return Object.keys(settingsSchema.shape).some((name) => message.includes(name));
}

/**
 * What `work` gives (a token, a response), or a failing problem: a delivery failure (a refusal, a
 * network error, a time-out) in its own words, with `fix` unless it names a setting already.
 */
export async function orProblem<T>(work: Promise<T>, fix: string): Promise<T> {
    try {
        return await work;
    } catch (error) {
        if (error instanceof DeliveryFailure) throw new CheckProblem(namesSetting(error.message) ? error.message : withFix(error.message, fix));
        throw error;
    }
}

/** One call of a check; a network failure or time-out becomes a failing problem naming the setting. */
export function probeCall(url: string | URL, options: CallOptions, fix: string): Promise<Response> {
    return orProblem(call(url, options), fix);
}

/** A call expected to answer 2xx with JSON: the parsed body, or a problem naming `fix`. */
export async function probeJson(url: string | URL, options: CallOptions, fix: string, read?: ErrorReader): Promise<unknown> {
    const response = await probeCall(url, options, fix);
    if (!response.ok) throw await refusedProblem(response, options.service, fix, read);
    const body: unknown = await response.json().catch(() => undefined);
    if (body === undefined) throw new CheckProblem(`${options.service} answered ${response.status} with a body that is not JSON: check ${fix}.`);
    return body;
}

/** `"a", "b"`: names as the check's sentences quote them. */
export function quoteAll(names: readonly string[]): string {
    return names.map((name) => `"${name}"`).join(', ');
}
