import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ConfigurationError, runsInAzure, settings, type Settings } from '../config/settings';
import { lazy } from '../runtime/lazy';
import { decideAccess } from './access';
import { consoleAsset } from './assets';
import { ConsoleData } from './consoleData';
import { exportCsv } from './exportCsv';
import { fullExportTaker } from './fullExport';
import { importUpload } from './importUpload';
import { parseLeadQuery, QueryError } from './leadQuery';
import { consolePath, renderDetailPage, renderListPage, renderMessagePage } from './render';
import { parseOverviewQuery, renderOverviewPage } from './overview';
import { replayRequest } from './replayRequest';
import { ConsoleRequestError } from './consoleRequestError';
import { StorageUnavailableError } from '../queue/jsonQueue';
import { statusOf } from '../storage/clients';
import { connectionPeerOf } from '../runtime/connectionPeer';
import { crossSiteReason } from '../runtime/crossSite';
import { escapeLogText } from '../runtime/logText';

/** An error of the storage service or of the way to it (a status from the service, or no answer at all). */
function isStorageError(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    return (
        error instanceof StorageUnavailableError ||
        statusOf(error) !== undefined ||
        (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+|REQUEST_SEND_ERROR)$/.test(code)) ||
        (error as { name?: unknown } | null)?.name === 'RestError'
    );
}

/**
 * Every answer of the console: its own scripts and styles only, never framed, never cached (it
 * shows personal data), and no referrer leaves the site with a link.
 */
const securityHeaders: Record<string, string> = {
    'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
};

const data = lazy(() => ConsoleData.connect(settings()));

function html(status: number, body: string): HttpResponseInit {
    return { status, body, headers: { ...securityHeaders, 'content-type': 'text/html; charset=utf-8' } };
}

function json(status: number, value: unknown): HttpResponseInit {
    return { status, body: JSON.stringify(value), headers: { ...securityHeaders, 'content-type': 'application/json; charset=utf-8' } };
}

/** Pages are the paths a person opens; everything else answers JSON. */
function wantsPage(path: string): boolean {
    return path === '' || path.startsWith('view/');
}

function problem(path: string, status: number, message: string): HttpResponseInit {
    return wantsPage(path) ? html(status, renderMessagePage(status === 404 ? 'Not found' : 'Cannot show this', message)) : json(status, { error: message });
}

const notices: Record<string, (n: number, left: number) => string> = {
    replayed: (n, left) =>
        `Sent ${n} lead(s) from the poison queues back to their destinations.${left ? ` ${left} uncertain deliver${left === 1 ? 'y was' : 'ies were'} left: check the destination, then replay them with "I checked".` : ''}`,
};

/** The notice a redirect after an action asks for: built from numbers, never from text in the URL. */
function noticeOf(params: URLSearchParams): string | undefined {
    const replayed = params.get('replayed');
    if (replayed === null || !/^\d{1,6}$/.test(replayed)) return undefined;
    const left = Number(/^\d{1,6}$/.test(params.get('left') ?? '') ? params.get('left') : 0);
    return notices.replayed?.(Number(replayed), left);
}

function filtersOf(params: URLSearchParams): URLSearchParams {
    return new URLSearchParams([...params].filter(([name]) => !['replayed', 'left'].includes(name)));
}

async function listPage(params: URLSearchParams, fullExport: boolean): Promise<HttpResponseInit> {
    const console = await data();
    const query = parseLeadQuery(filtersOf(params));
    const [page, attention, rangeCount] = await Promise.all([console.page(query), console.attention(), console.count(query)]);
    const health = await console.health(attention);
    return html(200, renderListPage({ query, page, health, attention, notice: noticeOf(params), fullExport, rangeCount }));
}

async function overviewPage(params: URLSearchParams): Promise<HttpResponseInit> {
    const query = parseOverviewQuery(params);
    return html(200, renderOverviewPage(query, await (await data()).figures(query.fromDay, query.toDay)));
}

async function route(request: HttpRequest, s: Settings, path: string, context: InvocationContext): Promise<HttpResponseInit> {
    const method = request.method.toUpperCase();
    const params = new URL(request.url).searchParams;
    const taker = fullExportTaker(s, (name) => request.headers.get(name));
    const view = /^(?:view|leads)\/([^/]+)$/.exec(path);
    if (method === 'POST') {
        const refused = crossSiteReason((name) => request.headers.get(name), request.url);
        if (refused) return json(403, { error: refused });
        if (path === 'replay') return replayRequest(request, s, json);
        if (path === 'import') return importUpload(request, s, json, html);
        return json(405, { error: `POST is not allowed on ${consolePath}/${path}.` });
    }
    if (method !== 'GET') return json(405, { error: `${method} is not allowed here.` });
    if (path === '') return listPage(params, taker.allowed);
    if (path === 'view/overview') return overviewPage(params);
    if (path === 'leads') return json(200, await (await data()).page(parseLeadQuery(params)));
    if (path === 'attention') return json(200, await (await data()).attention());
    if (path === 'health') {
        const console = await data();
        return json(200, await console.health(await console.attention()));
    }
    if (path === 'export.csv') return exportCsv(await data(), s.NOTIFY_PII, parseLeadQuery(params), securityHeaders);
    if (path === 'export-full.csv') {
        if (!taker.allowed) return problem(path, 403, taker.reason);
        const query = parseLeadQuery(params);
        const response = await exportCsv(await data(), 'full', query, securityHeaders);
        // Who took the leads' contact details, and which days: never what they hold.
        context.log(
            `The export with contact details of the leads of ${query.fromDay} to ${query.toDay}${query.q || query.offer || query.action || query.state ? ' (filtered)' : ''} was taken by ${escapeLogText(JSON.stringify(taker.who))}.`,
        );
        return response;
    }
    if (view) {
        const lead = await (await data()).detail(view[1] ?? '');
        if (!lead) return problem(path, 404, `There is no lead "${view[1] ?? ''}" in ${s.LEADS_TABLE}.`);
        return path.startsWith('view/') ? html(200, renderDetailPage(lead, noticeOf(params))) : json(200, lead);
    }
    const asset = /^assets\/([a-z.]+)$/.exec(path);
    const file = asset && consoleAsset(asset[1] ?? '');
    if (file) return { status: 200, body: file.body, headers: { ...securityHeaders, 'content-type': file.contentType, 'cache-control': 'public, max-age=300' } };
    return problem(path, 404, `There is nothing at ${consolePath}/${path}.`);
}

/** The lead console: who may see it, then the page, JSON or action the path names. */
export async function handleConsole(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const path = (request.params.path ?? '').replace(/^\/+|\/+$/g, '');
    let s: Settings;
    try {
        s = settings();
    } catch (error) {
        if (!(error instanceof ConfigurationError)) throw error;
        context.error(`The console cannot start: ${error.message}`);
        // In Azure a broken setting must not tell strangers about the app; locally the developer needs to know.
        return runsInAzure(process.env) ? json(404, { error: 'Not found.' }) : problem(path, 503, error.message);
    }
    const url = new URL(request.url);
    const access = decideAccess({ inAzure: s.inAzure, host: url.hostname, peer: connectionPeerOf(request), authEnabled: s.authEnabled, roles: s.CONSOLE_ALLOWED_ROLES, groups: s.CONSOLE_ALLOWED_GROUPS }, (name) =>
        request.headers.get(name),
    );
    if (!access.allowed) {
        context.warn(`Console request refused with ${access.status}: ${access.reason}`);
        if (access.status === 404) return json(404, { error: 'Not found.' });
        if (access.status === 401 && request.method.toUpperCase() === 'GET' && wantsPage(path)) {
            return { status: 302, headers: { ...securityHeaders, location: `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(`${consolePath}${path ? `/${path}` : ''}${url.search}`)}` } };
        }
        return problem(path, access.status, access.reason);
    }
    try {
        return await route(request, s, path, context);
    } catch (error) {
        if (error instanceof QueryError || error instanceof ConsoleRequestError) return problem(path, 400, error.message);
        if (isStorageError(error)) {
            context.error(`The console could not read the app's storage: ${error instanceof Error ? error.name : 'an error'}.`);
            return problem(path, 503, "The app's storage cannot be read just now; try again shortly.");
        }
        // A fault of the console's own: logged by the host with its stack, answered with nothing of it.
        context.error(`The console failed: ${error instanceof Error ? error.name : 'an error'}.`);
        return problem(path, 500, 'The console failed to answer this request.');
    }
}
