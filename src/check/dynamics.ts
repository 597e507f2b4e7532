import type { TokenCredential } from '@azure/core-auth';
import type { Settings } from '../config/settings';
import { dataverseError, dataverseLead, dynamicsCredential } from '../deliver/destinations/dynamics';
import { identifiers, isRecord, within } from '../deliver/http';
import { CheckProblem, type CheckOptions } from './checkResult';
import { mappedFieldNames } from './fieldNames';
import { probeJson, quoteAll } from './probe';

const credentialFix = 'check DYNAMICS_TENANT_ID, DYNAMICS_CLIENT_ID and DYNAMICS_CLIENT_SECRET (or the managed identity), and that the secret has not expired';

/** Entra ID's refusal by its codes only (`invalid_client`, AADSTS7000222 for an expired secret): the description can quote the request. */
function tokenProblem(error: unknown): CheckProblem {
    const e = isRecord(error) ? error : {};
    const response = isRecord(e.errorResponse) ? e.errorResponse : {};
    const errorCodes: unknown[] = Array.isArray(response.errorCodes) ? response.errorCodes : [];
    const codes = identifiers(response.error, ...errorCodes.map((c) => (typeof c === 'number' ? `AADSTS${c}` : c)));
    const status = typeof e.statusCode === 'number' ? ` answered ${e.statusCode}` : ' refused';
    const name = error instanceof Error ? error.name : 'an error';
    return new CheckProblem(`Entra ID${status} the token request for Dynamics 365 (${codes.length > 0 ? `error code ${quoteAll(codes)}` : name}): ${credentialFix}.`);
}

interface Attribute {
    create: boolean;
    update: boolean;
}

function attributesOf(body: unknown): Map<string, Attribute> {
    const values = isRecord(body) && Array.isArray(body.value) ? body.value.filter(isRecord) : [];
    return new Map(values.flatMap((a) => (typeof a.LogicalName === 'string' ? [[a.LogicalName, { create: a.IsValidForCreate === true, update: a.IsValidForUpdate === true }] as const] : [])));
}

/**
 * A token for `{org}/.default`, `WhoAmI` (the application user exists in the org), then the lead
 * entity's attributes: each mapped column exists and can be written on create and update.
 */
export async function checkDynamics(settings: Settings, { signal }: CheckOptions, credential?: TokenCredential): Promise<string> {
    const org = new URL(settings.DYNAMICS_URL ?? '').origin;
    const timeoutMs = settings.DELIVERY_TIMEOUT_SECONDS * 1000;
    let token: string;
    try {
        const issued = await (credential ?? (await dynamicsCredential(settings))).getToken(`${org}/.default`, {
            abortSignal: within(AbortSignal.timeout(timeoutMs), signal),
        });
        token = issued?.token ?? '';
    } catch (error) {
        throw tokenProblem(error);
    }
    if (!token) throw new CheckProblem(`Entra ID issued no token for Dynamics 365: ${credentialFix}.`);
    const options = { headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'odata-maxversion': '4.0', 'odata-version': '4.0' }, timeoutMs, service: 'Dynamics 365', signal };
    const api = `${org}/api/data/v9.2`;
    const userFix = 'check DYNAMICS_URL, and that the app registration is an application user of the environment with a security role that may create leads';
    await probeJson(`${api}/WhoAmI`, options, userFix, dataverseError);
    const attributes = attributesOf(await probeJson(`${api}/EntityDefinitions(LogicalName='lead')/Attributes?$select=LogicalName,IsValidForCreate,IsValidForUpdate`, options, userFix, dataverseError));
    const wanted = mappedFieldNames(dataverseLead, settings.DYNAMICS_FIELDS);
    const missing = wanted.filter((name) => !attributes.has(name));
    if (missing.length > 0) throw new CheckProblem(`The Dataverse lead table has no column ${quoteAll(missing)} (logical name): create it, or fix its name in DYNAMICS_FIELDS.`);
    const readOnly = wanted.filter((name) => attributes.get(name)?.create !== true || attributes.get(name)?.update !== true);
    if (readOnly.length > 0) throw new CheckProblem(`The Dataverse lead column ${quoteAll(readOnly)} cannot be written on create and update: map another column in DYNAMICS_FIELDS.`);
    return `The token is issued, the application user exists and all ${wanted.length} mapped lead columns are writable.`;
}
