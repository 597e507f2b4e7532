import type { Settings } from '../config/settings';
import { marketoLead, MarketoDestination } from '../deliver/destinations/marketo';
import { describeDetail, identifiers, isRecord } from '../deliver/http';
import { CheckProblem, type CheckOptions } from './checkResult';
import { mappedFieldNames } from './fieldNames';
import { orProblem, probeJson, quoteAll, withFix } from './probe';

/** Marketo's rate limits (606: 100 calls in 20 s, 615: concurrent calls): it works, but throttles. */
const throttled = new Set(['606', '615']);

/** `describe2.json` answers `{"success":true,"result":[{"fields":[{"name":…,"updateable":…}]}]}`, or `success: false` with codes in a 200. */
function fieldsOf(body: unknown): Map<string, boolean> {
    const [entry] = isRecord(body) && Array.isArray(body.result) ? body.result.filter(isRecord) : [];
    const fields = entry && Array.isArray(entry.fields) ? entry.fields.filter(isRecord) : [];
    return new Map(fields.flatMap((f) => (typeof f.name === 'string' ? [[f.name, f.updateable !== false] as const] : [])));
}

/** A token from the identity endpoint, then the lead describe (`GET /rest/v1/leads/describe2.json`): each mapped field exists and is updateable. */
export async function checkMarketo(settings: Settings, { signal }: CheckOptions): Promise<string> {
    const fix = 'check MARKETO_URL (the REST endpoint without /rest), MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET (a LaunchPoint custom service whose API-only user may read and write leads)';
    const token = await orProblem(MarketoDestination.create(settings).issueToken(signal), fix);
    const body = await probeJson(
        `${(settings.MARKETO_URL ?? '').replace(/\/+$/, '')}/rest/v1/leads/describe2.json`,
        { headers: { authorization: `Bearer ${token.token}`, accept: 'application/json' }, timeoutMs: settings.DELIVERY_TIMEOUT_SECONDS * 1000, service: 'Marketo', signal },
        fix,
    );
    if (isRecord(body) && body.success === false) {
        const codes = identifiers(...(Array.isArray(body.errors) ? body.errors.filter(isRecord).map((e) => e.code) : []));
        const message = `Marketo refused the lead describe with ${describeDetail({ codes }) || 'no error code'}.`;
        throw codes.some((code) => throttled.has(code)) ? new CheckProblem(withFix(message, 'Marketo is throttling this app; try again later'), 'warning') : new CheckProblem(withFix(message, fix));
    }
    const fields = fieldsOf(body);
    const wanted = mappedFieldNames(marketoLead, settings.MARKETO_FIELDS);
    const missing = wanted.filter((name) => !fields.has(name));
    if (missing.length > 0) throw new CheckProblem(`Marketo has no lead field ${quoteAll(missing)} (REST API name): create it, or fix its name in MARKETO_FIELDS.`);
    const readOnly = wanted.filter((name) => fields.get(name) === false);
    if (readOnly.length > 0) throw new CheckProblem(`Marketo's lead field ${quoteAll(readOnly)} is not updateable: map another field in MARKETO_FIELDS.`);
    return `The token is issued and all ${wanted.length} mapped lead fields exist.`;
}
