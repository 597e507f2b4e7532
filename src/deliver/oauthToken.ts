import { identifiers, isRecord, type ErrorDetail } from './http';

/**
 * An OAuth token endpoint's error (`{"error":"invalid_client","error_description":…}`, RFC 6749
 * section 5.2), by its code only: descriptions are free text.
 */
export function oauthError(body: unknown): ErrorDetail {
    return { codes: isRecord(body) ? identifiers(body.error) : [] };
}

/** A token as the service issued it (with whatever the calls need besides, such as Salesforce's instance URL), and how long it lasts. */
export interface IssuedToken<T> {
    token: T;
    /** Unknown when the service does not say (Salesforce): the token is then kept until a call is refused. */
    lifetimeMs?: number;
}

/**
 * One client-credentials token per destination instance: issued when first needed, kept until it
 * expires, and issued again when a service refuses it. `call` refreshes it once per delivery,
 * never in a loop.
 */
export class CachedToken<T> {
    private current: { token: T; expiresAt: number } | undefined;

    constructor(private readonly issue: (signal: AbortSignal | undefined) => Promise<IssuedToken<T>>) {}

    /**
     * The cached token, or a new one when there is none, it expired, or it is `refused`. A token
     * another delivery already replaced is not refreshed again: that delivery's new one is used.
     */
    async get(signal: AbortSignal | undefined, refused?: T): Promise<T> {
        const current = this.current;
        if (current && current.expiresAt > Date.now() && current.token !== refused) return current.token;
        const { token, lifetimeMs } = await this.issue(signal);
        this.current = { token, expiresAt: lifetimeMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + lifetimeMs };
        return token;
    }

    /**
     * Sends with the token; when `refused` says the service refused it (a 401, an expired-token
     * code), lets `release` free that answer and sends once more with a new token. The second
     * answer is returned whatever it says.
     */
    async call<R>(signal: AbortSignal | undefined, send: (token: T) => Promise<R>, refused: (answer: R) => boolean, release: (answer: R) => Promise<void>): Promise<R> {
        const token = await this.get(signal);
        const answer = await send(token);
        if (!refused(answer)) return answer;
        await release(answer);
        return send(await this.get(signal, token));
    }
}
