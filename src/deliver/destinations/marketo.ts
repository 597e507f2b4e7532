import type { Settings } from '../../config/settings';
import type { Lead } from '../../lead/lead';
import { DeliveryFailure, nonEmpty, type DeliveryContext, type DeliveryOutcome, type Destination } from '../destination';
import { call, callExpectingSuccess, describeDetail, identifiers, isRecord, type ErrorDetail } from '../http';

interface MarketoError {
    code?: string;
    message?: string;
}

interface SyncResponse {
    success?: boolean;
    errors?: MarketoError[];
    result?: { id?: number; status?: string; reasons?: MarketoError[] }[];
}

/** Marketo reports most errors in a 200 body. These codes mean "try again later". */
const transientCodes = new Set(['604', '606', '608', '611', '615', '713', '1029']);
/** Access token invalid (601) or expired (602): get a new token and retry once. */
const tokenCodes = new Set(['601', '602']);

/** Only the codes: Marketo's messages can quote the lead's values ("Value for field email is invalid: …"). */
function describeErrors(errors: MarketoError[] | undefined): string {
    const detail = describeDetail({ codes: (errors ?? []).map((e) => e.code ?? '') });
    return detail ? `${detail}.` : 'no error code given.';
}

/** The identity endpoint's OAuth error (`{"error":"invalid_client","error_description":…}`), by its code. */
function oauthError(body: unknown): ErrorDetail {
    return { codes: isRecord(body) ? identifiers(body.error) : [] };
}

/** The lead's fields under Marketo's REST names; empty ones are left out so an update never blanks a field. */
export function marketoLead(lead: Lead): Record<string, string> {
    const { customer } = lead;
    const fields: Record<string, string> = {
        email: customer.email,
        firstName: customer.firstName,
        lastName: customer.lastName,
        phone: customer.phone,
        company: customer.company,
        title: customer.title,
        country: customer.country,
        leadSource: lead.source,
    };
    return nonEmpty(fields);
}

/**
 * Syncs the lead with `POST /rest/v1/leads.json` (createOrUpdate, looked up by e-mail). The OAuth
 * client-credentials token from the identity endpoint is cached until it expires and sent as a
 * Bearer header; a 401, or Marketo's 601/602 codes, refresh it once.
 */
export class MarketoDestination implements Destination {
    readonly name = 'marketo';
    /** A token, the sync, a new token after 601/602 or 401, and the sync again. */
    readonly maxCalls = 4;
    private token: { value: string; expiresAt: number } | undefined;

    constructor(
        private readonly baseUrl: string,
        private readonly clientId: string,
        private readonly clientSecret: string,
        private readonly timeoutMs: number,
    ) {}

    static create(settings: Settings): MarketoDestination {
        const { MARKETO_URL = '', MARKETO_CLIENT_ID = '', MARKETO_CLIENT_SECRET = '' } = settings;
        return new MarketoDestination(MARKETO_URL.replace(/\/+$/, ''), MARKETO_CLIENT_ID, MARKETO_CLIENT_SECRET, settings.DELIVERY_TIMEOUT_SECONDS * 1000);
    }

    private async accessToken(refresh: boolean, signal: AbortSignal | undefined): Promise<string> {
        if (!refresh && this.token && this.token.expiresAt > Date.now()) return this.token.value;
        const url = new URL(`${this.baseUrl}/identity/oauth/token`);
        url.search = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.clientId, client_secret: this.clientSecret }).toString();
        const response = await callExpectingSuccess(url, { timeoutMs: this.timeoutMs, service: 'The Marketo identity endpoint', signal }, oauthError);
        const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number };
        if (!body.access_token) throw new DeliveryFailure('The Marketo identity endpoint answered without an access_token.', 'transient');
        // Renew a minute early, so a token does not expire between check and use.
        this.token = { value: body.access_token, expiresAt: Date.now() + ((body.expires_in ?? 3600) - 60) * 1000 };
        return this.token.value;
    }

    private async sync(lead: Lead, refresh: boolean, signal: AbortSignal | undefined): Promise<{ response: Response; body?: SyncResponse }> {
        const response = await call(`${this.baseUrl}/rest/v1/leads.json`, {
            method: 'POST',
            headers: { authorization: `Bearer ${await this.accessToken(refresh, signal)}`, 'content-type': 'application/json' },
            body: JSON.stringify({ action: 'createOrUpdate', lookupField: 'email', input: [marketoLead(lead)] }),
            timeoutMs: this.timeoutMs,
            service: 'Marketo',
            signal,
        });
        if (!response.ok) return { response };
        return { response, body: (await response.json().catch(() => undefined)) as SyncResponse | undefined };
    }

    private static needsNewToken({ response, body }: { response: Response; body?: SyncResponse }): boolean {
        return response.status === 401 || (body?.success === false && (body.errors ?? []).some((e) => tokenCodes.has(e.code ?? '')));
    }

    /** The first version and every update alike: createOrUpdate sends only the fields the lead has. */
    async deliver(lead: Lead, { signal }: DeliveryContext): Promise<DeliveryOutcome> {
        if (!lead.customer.email) return { state: 'skipped', reason: 'Marketo looks leads up by e-mail, and this lead has none.' };
        let answer = await this.sync(lead, false, signal);
        if (MarketoDestination.needsNewToken(answer)) {
            await answer.response.body?.cancel().catch(() => undefined);
            answer = await this.sync(lead, true, signal);
        }
        const { response, body } = answer;
        if (!response.ok) {
            const transient = response.status === 408 || response.status === 429 || response.status >= 500;
            throw new DeliveryFailure(`Marketo answered ${response.status}.`, transient ? 'transient' : 'permanent');
        }
        if (!body) throw new DeliveryFailure('Marketo answered with a body that is not JSON.', 'transient');
        if (!body.success) {
            const transient = (body.errors ?? []).some((e) => transientCodes.has(e.code ?? '') || tokenCodes.has(e.code ?? ''));
            throw new DeliveryFailure(`Marketo refused the request: ${describeErrors(body.errors)}`, transient ? 'transient' : 'permanent');
        }
        const [record] = body.result ?? [];
        if (record?.status === 'created' || record?.status === 'updated') return { state: 'delivered', target: `lead ${record.id ?? '?'}` };
        throw new DeliveryFailure(`Marketo skipped the lead: ${describeErrors(record?.reasons)}`, 'permanent');
    }
}
