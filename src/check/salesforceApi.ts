import type { Settings } from '../config/settings';
import { SalesforceApiDestination, salesforceErrors, salesforceLead } from '../deliver/destinations/salesforceApi';
import { isRecord } from '../deliver/http';
import { CheckProblem, type CheckOptions } from './checkResult';
import { mappedFieldNames } from './fieldNames';
import { orProblem, probeJson, quoteAll } from './probe';

interface LeadField {
    createable: boolean;
    updateable: boolean;
    externalId: boolean;
}

/** The describe's `fields` array, by API name. */
function fieldsOf(body: unknown): Map<string, LeadField> {
    const fields = isRecord(body) && Array.isArray(body.fields) ? body.fields.filter(isRecord) : [];
    return new Map(fields.flatMap((f) => (typeof f.name === 'string' ? [[f.name, { createable: f.createable === true, updateable: f.updateable === true, externalId: f.externalId === true }] as const] : [])));
}

/** Below this share of the org's daily API requests left, the check warns. */
const lowShare = 0.1;

function limitsSentence(body: unknown): { sentence: string; low: boolean } {
    const daily = isRecord(body) && isRecord(body.DailyApiRequests) ? body.DailyApiRequests : {};
    const max = typeof daily.Max === 'number' ? daily.Max : undefined;
    const remaining = typeof daily.Remaining === 'number' ? daily.Remaining : undefined;
    if (max === undefined || remaining === undefined) return { sentence: 'The org did not say how many API requests are left today.', low: false };
    return { sentence: `${remaining} of ${max} daily API requests are left.`, low: remaining < max * lowShare };
}

/**
 * A session by the client credentials flow, then the Lead describe (each mapped field exists and is
 * createable and updateable, SALESFORCE_EXTERNAL_ID_FIELD is an External ID) and `/limits` (the
 * org's daily API requests left).
 */
export async function checkSalesforceApi(settings: Settings, { signal }: CheckOptions): Promise<string> {
    const fix = 'check SALESFORCE_DOMAIN, SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET';
    const { token: session } = await orProblem(SalesforceApiDestination.create(settings).issueSession(signal), fix);
    const options = { headers: { authorization: `Bearer ${session.accessToken}`, accept: 'application/json' }, timeoutMs: settings.DELIVERY_TIMEOUT_SECONDS * 1000, service: 'Salesforce', signal };
    const api = `${session.instanceUrl}/services/data/v${settings.SALESFORCE_API_VERSION}`;
    const runAs = 'give the run-as user of the app the API Enabled permission and read access to Lead';
    const fields = fieldsOf(await probeJson(`${api}/sobjects/Lead/describe`, options, runAs, salesforceErrors));
    const externalId = settings.SALESFORCE_EXTERNAL_ID_FIELD ?? '';
    const external = fields.get(externalId);
    if (!external) throw new CheckProblem(`Lead has no field "${externalId}" the run-as user can see: check SALESFORCE_EXTERNAL_ID_FIELD, and the field's field-level security.`);
    if (!external.externalId) throw new CheckProblem(`The Lead field "${externalId}" is not marked External ID: mark it External ID (and Unique), or fix SALESFORCE_EXTERNAL_ID_FIELD.`);
    const wanted = mappedFieldNames((lead, mapping) => salesforceLead(lead, 'create', mapping), settings.SALESFORCE_FIELDS);
    const missing = wanted.filter((name) => !fields.has(name));
    if (missing.length > 0) throw new CheckProblem(`Lead has no field ${quoteAll(missing)} the run-as user can see: create it, fix its name in SALESFORCE_FIELDS, or check its field-level security.`);
    const readOnly = [externalId, ...wanted].filter((name) => fields.get(name)?.createable !== true || fields.get(name)?.updateable !== true);
    if (readOnly.length > 0) throw new CheckProblem(`The run-as user cannot create or edit the Lead field ${quoteAll(readOnly)}: give it edit access (field-level security), or map another field in SALESFORCE_FIELDS.`);
    const limits = limitsSentence(await probeJson(`${api}/limits`, options, runAs, salesforceErrors));
    const summary = `The session is issued, "${externalId}" is an External ID and all ${wanted.length} mapped Lead fields are writable; ${limits.sentence}`;
    if (limits.low) throw new CheckProblem(`${summary.replace(/\.$/, '')}: leads fail once none is left; look for what else uses the org's API.`, 'warning');
    return summary;
}
