import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Settings } from '../config/settings';
import { replayPoison } from '../deliver/replay';
import { ConsoleRequestError } from './consoleRequestError';
import { consolePath } from './render';

interface ReplayAsked {
    all: boolean;
    leadIds: string[];
    uncertain: boolean;
    /** The form was on the lead's page, and the answer goes back there. */
    backToLead: boolean;
}

function truthy(value: unknown): boolean {
    return value === true || value === 'true' || value === '1' || value === 'on';
}

/** The form the page posts (`leadId`, repeatable, or `all`; `uncertain`), or the same as JSON. */
async function askedOf(request: HttpRequest): Promise<{ asked: ReplayAsked; fromForm: boolean }> {
    const type = request.headers.get('content-type') ?? '';
    const text = await request.text();
    if (/^application\/json/i.test(type)) {
        let body: unknown;
        try {
            body = JSON.parse(text);
        } catch {
            throw new ConsoleRequestError('The body is not valid JSON: send {"leadIds": [...]} or {"all": true}.');
        }
        const value = (typeof body === 'object' && body !== null ? body : {}) as { all?: unknown; leadIds?: unknown; uncertain?: unknown };
        const leadIds = Array.isArray(value.leadIds) ? value.leadIds.map(String) : [];
        return { asked: { all: truthy(value.all), leadIds, uncertain: truthy(value.uncertain), backToLead: false }, fromForm: false };
    }
    const form = new URLSearchParams(text);
    const backToLead = form.get('back') === 'lead';
    return { asked: { all: truthy(form.get('all')), leadIds: form.getAll('leadId'), uncertain: truthy(form.get('uncertain')), backToLead }, fromForm: true };
}

/** POST /api/console/replay: does what `npm run leads -- replay-poison` does, for the leads named or all. */
export async function replayRequest(request: HttpRequest, s: Settings, json: (status: number, value: unknown) => HttpResponseInit): Promise<HttpResponseInit> {
    const { asked, fromForm } = await askedOf(request);
    const bad = asked.leadIds.find((id) => !/^[0-9a-f]{32}$/.test(id));
    if (bad !== undefined) throw new ConsoleRequestError(`"${bad.slice(0, 40)}" is not a lead id: a lead id has 32 hexadecimal digits.`);
    if (!asked.all && asked.leadIds.length === 0) throw new ConsoleRequestError('Name the leads to replay (leadId) or ask for all of them (all=true).');
    const report = await replayPoison(s, { includeUncertain: asked.uncertain, ...(asked.all ? {} : { leadIds: new Set(asked.leadIds) }) });
    if (!fromForm) return json(200, report);
    // Only a lead id already checked above goes into the address, and only with one lead asked for.
    const [one] = asked.leadIds;
    const page = asked.backToLead && asked.leadIds.length === 1 && one ? `${consolePath}/view/${one}` : consolePath;
    return { status: 303, headers: { location: `${page}?replayed=${report.moved}&left=${report.uncertain}`, 'cache-control': 'no-store' } };
}
