import type { Settings } from '../../config/settings';
import { mappedFields, type FieldMapping } from '../../lead/fieldMapping';
import type { Lead } from '../../lead/lead';
import { DeliveryFailure, nonEmpty, type DeliveryContext, type DeliveryOutcome, type Destination } from '../destination';
import { call, failureFor, identifiers, isRecord, type ErrorDetail } from '../http';

/**
 * The contact properties a lead fills: the standard ones, with HUBSPOT_FIELDS merged over them;
 * empty ones are left out so an update never blanks a field.
 */
export function contactProperties(lead: Lead, mapping: FieldMapping = {}): Record<string, string> {
    const { customer } = lead;
    const properties: Record<string, string> = {
        email: customer.email,
        firstname: customer.firstName,
        lastname: customer.lastName,
        phone: customer.phone,
        company: customer.company,
        jobtitle: customer.title,
        country: customer.country,
    };
    return nonEmpty(mappedFields(properties, mapping, lead));
}

/**
 * HubSpot answers `{"status":"error","message":…,"category":"VALIDATION_ERROR","errors":[{"code":"INVALID_EMAIL",
 * "in":…,"context":{"propertyName":["email"]}}]}`. Its messages quote the values it refused, so only
 * the category, the codes and the property names are kept.
 */
export function hubSpotError(body: unknown): ErrorDetail {
    if (!isRecord(body)) return {};
    const errors = Array.isArray(body.errors) ? body.errors.filter(isRecord) : [];
    return {
        category: typeof body.category === 'string' ? body.category : undefined,
        codes: identifiers(...errors.map((e) => e.code)),
        fields: identifiers(...errors.flatMap((e) => [e.in, isRecord(e.context) ? e.context.propertyName : undefined])),
    };
}

/**
 * Upserts a CRM v3 contact by e-mail with a private-app token: create, and on 409 (the contact
 * exists) update it by e-mail instead.
 */
export class HubSpotDestination implements Destination {
    readonly name = 'hubspot';
    /** Create, and on 409 update. */
    readonly maxCalls = 2;
    readonly idempotent = true;

    constructor(
        private readonly baseUrl: string,
        private readonly token: string,
        private readonly timeoutMs: number,
        private readonly mapping: FieldMapping = {},
    ) {}

    static create(settings: Settings): HubSpotDestination {
        return new HubSpotDestination(settings.HUBSPOT_URL.replace(/\/+$/, ''), settings.HUBSPOT_TOKEN ?? '', settings.DELIVERY_TIMEOUT_SECONDS * 1000, settings.HUBSPOT_FIELDS);
    }

    private request(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<Response> {
        return call(`${this.baseUrl}${path}`, {
            method,
            headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
            timeoutMs: this.timeoutMs,
            service: 'HubSpot',
            signal,
        });
    }

    /** The first version and every update alike: an upsert by e-mail that sends only the fields the lead has. */
    async deliver(lead: Lead, { signal }: DeliveryContext): Promise<DeliveryOutcome> {
        if (!lead.customer.email) return { state: 'skipped', reason: 'HubSpot contacts are upserted by e-mail, and this lead has none.' };
        const properties = contactProperties(lead, this.mapping);
        const created = await this.request('POST', '/crm/v3/objects/contacts', { properties }, signal);
        if (created.ok) return { state: 'delivered', target: await contactId(created) };
        if (created.status !== 409) throw await failureFor(created, 'HubSpot', hubSpotError);
        await created.body?.cancel();
        const path = `/crm/v3/objects/contacts/${encodeURIComponent(lead.customer.email)}?idProperty=email`;
        const updated = await this.request('PATCH', path, { properties }, signal);
        if (!updated.ok) throw await failureFor(updated, 'HubSpot', hubSpotError);
        return { state: 'delivered', target: await contactId(updated) };
    }
}

async function contactId(response: Response): Promise<string | undefined> {
    const body = (await response.json().catch(() => undefined)) as { id?: unknown } | undefined;
    if (body === undefined) throw new DeliveryFailure('HubSpot answered with a body that is not JSON.', 'transient');
    return typeof body.id === 'string' ? `contact ${body.id}` : undefined;
}
