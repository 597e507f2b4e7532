import type { Settings } from '../config/settings';
import { contactProperties, hubSpotError } from '../deliver/destinations/hubspot';
import { isRecord } from '../deliver/http';
import type { CheckOptions } from './checkResult';
import { CheckProblem } from './checkResult';
import { mappedFieldNames } from './fieldNames';
import { probeJson, quoteAll } from './probe';

interface Property {
    name: string;
    readOnly: boolean;
}

function propertiesOf(body: unknown): Property[] {
    const results = isRecord(body) && Array.isArray(body.results) ? body.results.filter(isRecord) : [];
    return results.flatMap((p) => (typeof p.name === 'string' ? [{ name: p.name, readOnly: isRecord(p.modificationMetadata) && p.modificationMetadata.readOnlyValue === true }] : []));
}

/** The private-app token reads the contact properties (`GET /crm/v3/properties/contacts`), and each mapped one exists and takes values. */
export async function checkHubSpot(settings: Settings, { signal }: CheckOptions): Promise<string> {
    const body = await probeJson(
        `${settings.HUBSPOT_URL.replace(/\/+$/, '')}/crm/v3/properties/contacts`,
        { headers: { authorization: `Bearer ${settings.HUBSPOT_TOKEN ?? ''}`, accept: 'application/json' }, timeoutMs: settings.DELIVERY_TIMEOUT_SECONDS * 1000, service: 'HubSpot', signal },
        'check HUBSPOT_TOKEN (a private app token with the crm.objects.contacts.write and crm.schemas.contacts.read scopes)',
        hubSpotError,
    );
    const properties = new Map(propertiesOf(body).map((p) => [p.name, p]));
    const wanted = mappedFieldNames(contactProperties, settings.HUBSPOT_FIELDS);
    const missing = wanted.filter((name) => !properties.has(name));
    if (missing.length > 0) throw new CheckProblem(`HubSpot has no contact property ${quoteAll(missing)}: create it, or fix its name in HUBSPOT_FIELDS.`);
    const readOnly = wanted.filter((name) => properties.get(name)?.readOnly === true);
    if (readOnly.length > 0) throw new CheckProblem(`HubSpot's contact property ${quoteAll(readOnly)} is read-only: map another property in HUBSPOT_FIELDS.`);
    return `The token is accepted and all ${wanted.length} mapped contact properties exist.`;
}
