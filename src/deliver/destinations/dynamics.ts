import type { TokenCredential } from '@azure/core-auth';
import type { Settings } from '../../config/settings';
import { mappedFields, type FieldMapping } from '../../lead/fieldMapping';
import type { Lead } from '../../lead/lead';
import { DeliveryFailure, nonEmpty, type DeliveryContext, type DeliveryOutcome, type Destination } from '../destination';
import { call, failureFor, nestedErrorCode, within, type ErrorReader } from '../http';
import { describeOrigin } from './salesforce';

/** The lead id (32 hex digits) as the Dataverse record id, so every retry names the same record. */
export function recordIdFor(leadId: string): string {
    return `${leadId.slice(0, 8)}-${leadId.slice(8, 12)}-${leadId.slice(12, 16)}-${leadId.slice(16, 20)}-${leadId.slice(20, 32)}`;
}

/** Dataverse answers `{"error":{"code":"0x80040217","message":…}}`; only the code is kept, as the message can quote column values. */
export const dataverseError: ErrorReader = nestedErrorCode;

/** The Dataverse `lead` columns a marketplace lead fills, with DYNAMICS_FIELDS merged over them; empty ones are left out. */
export function dataverseLead(lead: Lead, mapping: FieldMapping = {}): Record<string, string> {
    const { customer } = lead;
    const offer = lead.offerTitle || lead.offer || 'an offer';
    const columns: Record<string, string> = {
        subject: `Marketplace lead for ${offer} (${[lead.source, lead.action].filter(Boolean).join(' ') || 'no source'})`.slice(0, 300),
        firstname: customer.firstName,
        lastname: customer.lastName,
        emailaddress1: customer.email,
        telephone1: customer.phone,
        companyname: customer.company,
        jobtitle: customer.title,
        address1_country: customer.country,
        description: describeOrigin(lead),
    };
    return nonEmpty(mappedFields(columns, mapping, lead));
}

/** A client secret's credential when one is set, else the app's managed identity (through DefaultAzureCredential). */
export async function dynamicsCredential(settings: Settings): Promise<TokenCredential> {
    const identity = await import('@azure/identity');
    const { DYNAMICS_TENANT_ID, DYNAMICS_CLIENT_ID, DYNAMICS_CLIENT_SECRET, DYNAMICS_AUTHORITY_HOST } = settings;
    const authority = DYNAMICS_AUTHORITY_HOST ? { authorityHost: DYNAMICS_AUTHORITY_HOST, disableInstanceDiscovery: true } : {};
    return DYNAMICS_CLIENT_SECRET && DYNAMICS_TENANT_ID && DYNAMICS_CLIENT_ID
        ? new identity.ClientSecretCredential(DYNAMICS_TENANT_ID, DYNAMICS_CLIENT_ID, DYNAMICS_CLIENT_SECRET, authority)
        : // The app's managed identity: AZURE_CLIENT_ID names the user-assigned one in Azure.
          new identity.DefaultAzureCredential(DYNAMICS_CLIENT_ID ? { managedIdentityClientId: DYNAMICS_CLIENT_ID } : {});
}

/**
 * Creates the lead through the Dataverse Web API, exactly once: `PATCH leads(<id>)` with
 * `If-None-Match: *` creates the record with an id derived from the lead id, and answers 412 if
 * an earlier attempt already did. An update is the same PATCH without the condition (an upsert),
 * with only the columns the lead fills, so it never blanks what a salesperson entered. Authenticates with a client secret when one is set, else with
 * the app's managed identity (through DefaultAzureCredential); the token's scope is `{org url}/.default`.
 */
export class DynamicsDestination implements Destination {
    readonly name = 'dynamics';
    /** A token, then the record. */
    readonly maxCalls = 2;
    readonly idempotent = true;

    constructor(
        private readonly orgUrl: string,
        private readonly credential: TokenCredential,
        private readonly timeoutMs: number,
        private readonly mapping: FieldMapping = {},
    ) {}

    static async create(settings: Settings): Promise<DynamicsDestination> {
        return new DynamicsDestination(new URL(settings.DYNAMICS_URL ?? '').origin, await dynamicsCredential(settings), settings.DELIVERY_TIMEOUT_SECONDS * 1000, settings.DYNAMICS_FIELDS);
    }

    private async accessToken(signal: AbortSignal | undefined): Promise<string> {
        try {
            const token = await this.credential.getToken(`${this.orgUrl}/.default`, { abortSignal: within(AbortSignal.timeout(this.timeoutMs), signal) });
            if (token) return token.token;
        } catch (error) {
            const status = (error as { statusCode?: number }).statusCode;
            const permanent = status !== undefined && status >= 400 && status < 500 && status !== 429;
            throw new DeliveryFailure(`Could not get a token for Dynamics 365: ${(error as Error).message.split('\n')[0]}`, permanent ? 'permanent' : 'transient');
        }
        throw new DeliveryFailure('Could not get a token for Dynamics 365.', 'transient');
    }

    async deliver(lead: Lead, { mode, earlierVersions, signal }: DeliveryContext): Promise<DeliveryOutcome> {
        const recordId = recordIdFor(lead.id);
        const response = await call(`${this.orgUrl}/api/data/v9.2/leads(${recordId})`, {
            method: 'PATCH',
            headers: {
                authorization: `Bearer ${await this.accessToken(signal)}`,
                accept: 'application/json',
                'content-type': 'application/json; charset=utf-8',
                'odata-maxversion': '4.0',
                'odata-version': '4.0',
                // After a version whose call failed, the record may exist already: upsert, or its 412 would keep the old one.
                ...(mode === 'create' && earlierVersions !== true ? { 'if-none-match': '*' } : {}),
            },
            body: JSON.stringify(dataverseLead(lead, this.mapping)),
            timeoutMs: this.timeoutMs,
            service: 'Dynamics 365',
            signal,
        });
        // 412: the record exists, because an earlier attempt created it.
        if (response.ok || response.status === 412) {
            await response.body?.cancel();
            return { state: 'delivered', target: `lead ${recordId}` };
        }
        throw await failureFor(response, 'Dynamics 365', dataverseError);
    }
}
