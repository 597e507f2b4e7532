import type { Settings } from '../../config/settings';
import { mappedFields, type FieldMapping } from '../../lead/fieldMapping';
import type { Lead } from '../../lead/lead';
import { DeliveryFailure, nonEmpty, type DeliveryContext, type DeliveryOutcome, type Destination } from '../destination';
import { call, failureFor, identifiers, isRecord, type ErrorDetail, type ErrorReader } from '../http';
import { CachedToken, oauthError, type IssuedToken } from '../oauthToken';
import { describeOrigin } from './salesforce';

/** What Salesforce stores on a Lead it was not given a LastName or Company for: Web-to-Lead's own placeholder, so both destinations' leads look alike. */
export const notProvided = '[not provided]';

/** The standard Lead fields' lengths: a longer value would be refused (STRING_TOO_LONG) and the whole lead with it. */
const maxLengths = { FirstName: 40, LastName: 80, Phone: 40, Title: 128, Company: 255, Country: 80, Description: 32_000, LeadSource: 255 } as const;

/** Cuts to Salesforce's length in UTF-16 code units (as it counts), never through a surrogate pair. */
function cut(value: string, length: number): string {
    if (value.length <= length) return value;
    const cutAt = /[\uD800-\uDBFF]/.test(value.charAt(length - 1)) ? length - 1 : length;
    return value.slice(0, cutAt);
}

/**
 * The Lead fields a marketplace lead fills. A new lead gets Web-to-Lead's placeholder for the two
 * fields Salesforce requires (LastName, Company); an update sends only what the lead has, so it
 * never blanks, or overwrites with a placeholder, what a salesperson entered. The e-mail is never
 * cut: a shortened address would be a wrong one.
 */
export function salesforceLead(lead: Lead, mode: DeliveryContext['mode'], mapping: FieldMapping = {}): Record<string, string> {
    const { customer } = lead;
    const required = (value: string) => (mode === 'create' && value === '' ? notProvided : value);
    const fields: Record<string, string> = {
        FirstName: cut(customer.firstName, maxLengths.FirstName),
        LastName: cut(required(customer.lastName), maxLengths.LastName),
        Email: customer.email,
        Phone: cut(customer.phone, maxLengths.Phone),
        Title: cut(customer.title, maxLengths.Title),
        Company: cut(required(customer.company), maxLengths.Company),
        Country: cut(customer.country, maxLengths.Country),
        Description: cut(describeOrigin(lead), maxLengths.Description),
        LeadSource: cut(lead.source, maxLengths.LeadSource),
    };
    return nonEmpty(mappedFields(fields, mapping, lead));
}

/**
 * Salesforce's REST errors, `[{"errorCode":"INVALID_EMAIL_ADDRESS","message":…,"fields":["Email"]}]`:
 * the codes and field names only, as a message can quote the value it refused ("invalid email
 * address: ada@…").
 */
export function salesforceErrors(body: unknown): ErrorDetail {
    const errors = Array.isArray(body) ? body.filter(isRecord) : [];
    return { codes: identifiers(...errors.map((e) => e.errorCode)), fields: identifiers(...errors.map((e) => e.fields)) };
}

/**
 * Worth trying again later: the org's rolling 24-hour API limit, a record another transaction
 * holds, and DUPLICATE_VALUE, which a Unique external id field answers when an earlier call for the
 * same lead (one that timed out here) is still being saved: the retry finds that record and updates it.
 */
const transientCodes = new Set(['REQUEST_LIMIT_EXCEEDED', 'UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'DUPLICATE_VALUE']);

/** What to check for a refusal's code: the operator reads it in the delivery record and the poison alert. */
const apiHints: Record<string, string> = {
    NOT_FOUND: 'check that SALESFORCE_EXTERNAL_ID_FIELD names a field on Lead marked External ID, and that the run-as user can see and edit it (field-level security)',
    INVALID_FIELD: 'check that SALESFORCE_EXTERNAL_ID_FIELD is the API name of an External ID field on Lead, and that the run-as user can edit the fields named',
    INVALID_FIELD_FOR_INSERT_UPDATE: 'give the run-as user edit access to the fields named (field-level security)',
    INSUFFICIENT_ACCESS_OR_READONLY: 'give the run-as user create and edit on Lead',
    API_DISABLED_FOR_ORG: 'the org has no API access (Enterprise edition or above, or an API add-on)',
    API_CURRENTLY_DISABLED: 'give the run-as user the API Enabled permission',
    DUPLICATES_DETECTED: 'a duplicate rule on Lead blocks it; let the rule allow and report instead',
    FIELD_INTEGRITY_EXCEPTION: 'a value does not fit its field (with State and Country/Territory Picklists on, Country must be a country the org knows)',
};

const tokenHints: Record<string, string> = {
    invalid_client_id: 'check SALESFORCE_CLIENT_ID (the consumer key of the app)',
    invalid_client: 'check SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET (the consumer key and secret of the app)',
    invalid_grant: 'check that the app has the client credentials flow enabled with a run-as user, and that SALESFORCE_DOMAIN is the My Domain URL of the org',
    unsupported_grant_type: 'enable the client credentials flow on the app',
    inactive_user: 'the run-as user of the app is inactive',
    inactive_org: 'the org is locked or inactive',
};

/** Known `error_description`s of invalid_grant that say more precisely what to fix; compared, never quoted. */
const grantHints: Record<string, string> = {
    'no client credentials user enabled': 'set a run-as user for the client credentials flow on the app',
    'request not supported on this domain': 'SALESFORCE_DOMAIN must be the My Domain URL of the org (https://<name>.my.salesforce.com), not login.salesforce.com',
};

/** A non-2xx answer as a failure by `failureFor`, with the codes it found, for the caller to classify. */
async function refusal(response: Response, service: string, read: ErrorReader): Promise<{ failure: DeliveryFailure; codes: readonly string[]; body: unknown }> {
    let seen: { codes: readonly string[]; body: unknown } = { codes: [], body: undefined };
    const failure = await failureFor(response, service, (body) => {
        const detail = read(body);
        seen = { codes: detail.codes ?? [], body };
        return detail;
    });
    return { failure, ...seen };
}

/** The failure's message with what to check, keeping its kind and Retry-After. */
function withHint(failure: DeliveryFailure, hint: string | undefined, kind = failure.kind): DeliveryFailure {
    return new DeliveryFailure(hint ? `${failure.message.replace(/\.$/, '')}: ${hint}.` : failure.message, kind, failure.retryAfterMs);
}

/** What the token endpoint issues for the client credentials flow, and where the org's API is. */
export interface Session {
    accessToken: string;
    /** The origin the REST API is called at, from the token's `instance_url`. */
    instanceUrl: string;
}

/**
 * Upserts a Lead through the REST API on an External ID field that holds the lead id:
 * `PATCH /services/data/vXX.X/sobjects/Lead/<field>/<lead id>` creates it (201) or updates the one
 * record that has it (200 or 204), so a retry, even after a time-out that Salesforce had already
 * acted on, finds the same record and never makes a second. Authenticates with the OAuth 2.0
 * client credentials flow at the org's My Domain; the session (token and instance URL) is cached
 * per destination instance and issued again when the API answers 401, once per delivery.
 */
export class SalesforceApiDestination implements Destination {
    readonly name = 'salesforce-api';
    /** A token, the upsert, a new token after a 401, and the upsert again. */
    readonly maxCalls = 4;
    readonly idempotent = true;
    private readonly session = new CachedToken((signal) => this.issueSession(signal));

    constructor(
        private readonly domain: string,
        private readonly clientId: string,
        private readonly clientSecret: string,
        private readonly externalIdField: string,
        private readonly apiVersion: string,
        private readonly timeoutMs: number,
        private readonly mapping: FieldMapping = {},
    ) {}

    static create(settings: Settings): SalesforceApiDestination {
        const { SALESFORCE_DOMAIN = '', SALESFORCE_CLIENT_ID = '', SALESFORCE_CLIENT_SECRET = '', SALESFORCE_EXTERNAL_ID_FIELD = '', SALESFORCE_API_VERSION } = settings;
        const domain = URL.canParse(SALESFORCE_DOMAIN) ? new URL(SALESFORCE_DOMAIN).origin : SALESFORCE_DOMAIN;
        return new SalesforceApiDestination(
            domain,
            SALESFORCE_CLIENT_ID,
            SALESFORCE_CLIENT_SECRET,
            SALESFORCE_EXTERNAL_ID_FIELD,
            SALESFORCE_API_VERSION,
            settings.DELIVERY_TIMEOUT_SECONDS * 1000,
            settings.SALESFORCE_FIELDS,
        );
    }

    /** `POST {My Domain}/services/oauth2/token`, grant_type=client_credentials. Salesforce gives no lifetime: the session is kept until the API refuses it. */
    async issueSession(signal: AbortSignal | undefined): Promise<IssuedToken<Session>> {
        const service = 'The Salesforce token endpoint';
        const response = await call(`${this.domain}/services/oauth2/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
            body: new URLSearchParams({ grant_type: 'client_credentials', client_id: this.clientId, client_secret: this.clientSecret }),
            timeoutMs: this.timeoutMs,
            service,
            signal,
        });
        if (!response.ok) {
            const { failure, codes, body } = await refusal(response, service, oauthError);
            const description = isRecord(body) && typeof body.error_description === 'string' ? body.error_description : '';
            const [code = ''] = codes;
            throw withHint(failure, grantHints[description] ?? tokenHints[code]);
        }
        const body = (await response.json().catch(() => undefined)) as { access_token?: unknown; instance_url?: unknown } | undefined;
        const instance = typeof body?.instance_url === 'string' && URL.canParse(body.instance_url) ? new URL(body.instance_url) : undefined;
        if (typeof body?.access_token !== 'string' || !body.access_token || !instance) throw new DeliveryFailure(`${service} answered without an access_token and instance_url.`, 'transient');
        // The token goes wherever instance_url says: never over plain HTTP when the token itself came over HTTPS.
        if (instance.protocol !== 'https:' && this.domain.startsWith('https:')) throw new DeliveryFailure(`${service} answered an instance_url that is not HTTPS.`, 'permanent');
        return { token: { accessToken: body.access_token, instanceUrl: instance.origin } };
    }

    private upsert(lead: Lead, mode: DeliveryContext['mode'], session: Session, signal: AbortSignal | undefined): Promise<Response> {
        const path = `/services/data/v${this.apiVersion}/sobjects/Lead/${encodeURIComponent(this.externalIdField)}/${encodeURIComponent(lead.id)}`;
        return call(`${session.instanceUrl}${path}`, {
            method: 'PATCH',
            headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json; charset=UTF-8', accept: 'application/json' },
            body: JSON.stringify(salesforceLead(lead, mode, this.mapping)),
            timeoutMs: this.timeoutMs,
            service: 'Salesforce',
            signal,
        });
    }

    /**
     * The first version and every update alike are one upsert; an update sends only the fields the
     * lead has. A time-out is an ordinary transient failure here: the retry upserts the same record.
     */
    async deliver(lead: Lead, { mode, target, signal }: DeliveryContext): Promise<DeliveryOutcome> {
        const response = await this.session.call(
            signal,
            (session) => this.upsert(lead, mode, session, signal),
            (answer) => answer.status === 401,
            async (answer) => answer.body?.cancel().catch(() => undefined),
        );
        if (response.ok) {
            // 201 (created) and 200 (updated, API 46.0 and later) say the record id; 204 (updated) says nothing.
            const body: unknown = response.status === 204 ? undefined : await response.json().catch(() => undefined);
            const [id] = identifiers(isRecord(body) ? body.id : undefined);
            return { state: 'delivered', target: id ? `Lead ${id}` : (target ?? `Lead ${this.externalIdField} ${lead.id}`) };
        }
        if (response.status === 300) throw await this.ambiguous(response, lead);
        const { failure, codes } = await refusal(response, 'Salesforce', salesforceErrors);
        if (codes.includes('CANNOT_UPDATE_CONVERTED_LEAD')) {
            return { state: 'skipped', reason: 'Salesforce has this lead converted (to a contact, account or opportunity), and a converted lead cannot be changed; the update is in the leads table and the digest.' };
        }
        if (response.status === 401) throw withHint(failure, 'a new access token was refused too; check that the run-as user is active and has the API Enabled permission', 'permanent');
        if (codes.some((code) => transientCodes.has(code))) throw withHint(failure, undefined, 'transient');
        throw withHint(failure, codes.map((code) => apiHints[code]).find(Boolean));
    }

    /** 300: several Leads hold this lead id. Nothing was written; a person merges them. The body lists the records' URLs, whose ids are kept. */
    private async ambiguous(response: Response, lead: Lead): Promise<DeliveryFailure> {
        const body: unknown = await response.json().catch(() => undefined);
        const ids = identifiers(...(Array.isArray(body) ? body : []).map((url) => (typeof url === 'string' ? url.split('/').pop() : undefined)));
        const which = ids.length > 0 ? ` (${ids.join(', ')})` : '';
        return new DeliveryFailure(
            `Salesforce answered 300: ${ids.length || 'several'} Leads${which} have ${this.externalIdField} = ${lead.id}, so none was updated; merge them into one, and make the field Unique so that it cannot happen again.`,
            'permanent',
        );
    }
}
