import type { Settings } from '../../config/settings';
import { mappedFields, type FieldMapping } from '../../lead/fieldMapping';
import type { Lead } from '../../lead/lead';
import { DeliveryFailure, nonEmpty, type DeliveryContext, type DeliveryOutcome, type Destination } from '../destination';
import { call, callExpectingSuccess, describeDetail } from '../http';
import { CachedToken, oauthError, type IssuedToken } from '../oauthToken';

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

/** The lead's fields under Marketo's REST names, with MARKETO_FIELDS merged over them; empty ones are left out so an update never blanks a field. */
export function marketoLead(lead: Lead, mapping: FieldMapping = {}): Record<string, string> {
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
    return nonEmpty(mappedFields(fields, mapping, lead));
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
    readonly idempotent = true;
    private readonly token = new CachedToken((signal) => this.issueToken(signal));

    constructor(
        private readonly baseUrl: string,
        private readonly clientId: string,
        private readonly clientSecret: string,
        private readonly timeoutMs: number,
        private readonly mapping: FieldMapping = {},
    ) {}

    static create(settings: Settings): MarketoDestination {
        const { MARKETO_URL = '', MARKETO_CLIENT_ID = '', MARKETO_CLIENT_SECRET = '' } = settings;
        return new MarketoDestination(MARKETO_URL.replace(/\/+$/, ''), MARKETO_CLIENT_ID, MARKETO_CLIENT_SECRET, settings.DELIVERY_TIMEOUT_SECONDS * 1000, settings.MARKETO_FIELDS);
    }

    async issueToken(signal: AbortSignal | undefined): Promise<IssuedToken<string>> {
        const url = new URL(`${this.baseUrl}/identity/oauth/token`);
        url.search = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.clientId, client_secret: this.clientSecret }).toString();
        const response = await callExpectingSuccess(url, { timeoutMs: this.timeoutMs, service: 'The Marketo identity endpoint', signal }, oauthError);
        const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number };
        if (!body.access_token) throw new DeliveryFailure('The Marketo identity endpoint answered without an access_token.', 'transient');
        // Renew a minute early, so a token does not expire between check and use.
        return { token: body.access_token, lifetimeMs: ((body.expires_in ?? 3600) - 60) * 1000 };
    }

    private async sync(lead: Lead, token: string, signal: AbortSignal | undefined): Promise<{ response: Response; body?: SyncResponse }> {
        const response = await call(`${this.baseUrl}/rest/v1/leads.json`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ action: 'createOrUpdate', lookupField: 'email', input: [marketoLead(lead, this.mapping)] }),
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
        const { response, body } = await this.token.call(
            signal,
            (token) => this.sync(lead, token, signal),
            (answer) => MarketoDestination.needsNewToken(answer),
            async (answer) => answer.response.body?.cancel().catch(() => undefined),
        );
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
