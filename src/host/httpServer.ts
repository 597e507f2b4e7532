import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HttpRequest, HttpResponse, type HttpRequestInit, type HttpResponseInit } from '@azure/functions';
import type { HttpFunctionDefinition } from '../runtime/define';
import { invoke } from './invoke';
import { isLoopbackAddress, notFromThisMachine, recordConnectionPeer } from '../runtime/connectionPeer';
import { crossSiteReason } from '../runtime/crossSite';
import { hostLog } from './log';
import { decodeSegment, matchRoute, routeOf, type Route } from './routes';

/** The Functions host refuses request bodies over 100 MB; so does this one. */
const maxRequestBytes = 100 * 1024 * 1024;

export interface HttpServerOptions {
    functions: readonly HttpFunctionDefinition[];
    routePrefix: string;
    functionTimeoutMs: number;
    /** `POST /admin/functions/{name}`: runs a non-HTTP function now, as `func start` allows. */
    runFunction(name: string, input: unknown): boolean;
}

class BodyTooLargeError extends Error {}

/** The admin API's input becomes a queue message, at most 64 KiB, like the intake's body. */
export const maxAdminBodyBytes = 64 * 1024;

/** The whole body, for the admin API, refused as soon as it passes its limit. */
async function readAdminBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of streamedBody(req, () => undefined, maxAdminBodyBytes)) chunks.push(chunk);
    return Buffer.concat(chunks);
}

/**
 * Why the admin API refuses a request, if it does: it runs functions and hands them any message, so
 * it answers only this machine (the connection's own address, and a Host that names this machine,
 * so that a web page rebinding its name to 127.0.0.1 is refused) and never another web page.
 */
function adminRefusal(req: IncomingMessage, url: URL): string | undefined {
    const headers = headersOf(req);
    const why = notFromThisMachine(isLoopbackAddress(req.socket.remoteAddress) ? 'loopback' : 'network', url.hostname, (name) => headers[name]);
    if (why) return `The admin API answers only a person on this machine, and ${why}.`;
    return crossSiteReason((name) => headers[name], url.href);
}

function headersOf(req: IncomingMessage): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return headers;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
    if (body === undefined) {
        res.writeHead(status, { 'content-length': '0' }).end();
        return;
    }
    const json = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) }).end(json);
}

/** A handler's plain `{ status, headers, jsonBody | body: string }`, written without building a web Response. */
function writePlainResponse(res: ServerResponse, init: HttpResponseInit): boolean {
    const { status = 200, headers, body, cookies } = init;
    const jsonBody: unknown = init.jsonBody;
    if (cookies?.length || (body !== undefined && typeof body !== 'string') || (headers !== undefined && !isPlainRecord(headers))) return false;
    const text = jsonBody !== undefined ? JSON.stringify(jsonBody) : (body ?? '');
    const out: Record<string, string> = { ...headers };
    if (jsonBody !== undefined && !Object.keys(out).some((name) => name.toLowerCase() === 'content-type')) out['content-type'] = 'application/json';
    out['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(status, out).end(text);
    return true;
}

function isPlainRecord(value: unknown): value is Record<string, string> {
    return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype && Object.values(value).every((v) => typeof v === 'string');
}

async function writeResponse(res: ServerResponse, result: unknown): Promise<void> {
    if (result !== undefined && !(result instanceof HttpResponse) && writePlainResponse(res, result as HttpResponseInit)) return;
    const response = result instanceof HttpResponse ? result : new HttpResponse(result ?? { status: 204 });
    const body = Buffer.from(await response.arrayBuffer());
    const headers: Record<string, string | string[]> = {};
    response.headers.forEach((value, name) => {
        headers[name] = value;
    });
    if (response.headers.has('set-cookie')) headers['set-cookie'] = response.headers.getSetCookie();
    headers['content-length'] = String(body.length);
    res.writeHead(response.status, headers).end(body);
}

/** The body as it arrives, up to the host's limit: nothing is buffered before the function reads it. */
async function* streamedBody(req: IncomingMessage, onTooLarge: () => void = () => undefined, limit = maxRequestBytes): AsyncGenerator<Uint8Array> {
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) {
            onTooLarge();
            throw new BodyTooLargeError(`The request body is larger than ${limit} bytes.`);
        }
        yield chunk;
    }
}

/**
 * The request as the library builds it with HTTP streaming on (`createStreamRequest`, which the
 * worker uses once the host forwards requests to it): a native Request over the incoming body,
 * whether it came with a Content-Length or chunked. `nativeRequest` is the library's own field for
 * this, not in its public types.
 */
function streamingRequest(req: IncomingMessage, url: URL, params: Record<string, string>, onTooLarge: () => void): HttpRequest {
    const method = req.method ?? 'GET';
    const body = ['GET', 'HEAD'].includes(method.toUpperCase()) ? undefined : streamedBody(req, onTooLarge);
    const nativeRequest = new Request(url.href, { method, headers: headersOf(req), body, duplex: 'half' });
    const request = new HttpRequest({ params, nativeRequest } as HttpRequestInit);
    recordConnectionPeer(request, req.socket.remoteAddress);
    return request;
}

async function serveFunction(req: IncomingMessage, res: ServerResponse, url: URL, route: Route, params: Record<string, string>, timeoutMs: number): Promise<void> {
    const { definition } = route;
    const body = { tooLarge: false };
    const request = streamingRequest(req, url, params, () => {
        body.tooLarge = true;
    });
    let result: unknown;
    try {
        result = await invoke(definition.options.handler, request, {
            functionName: definition.name,
            trigger: { type: 'httpTrigger', name: 'request' },
            reason: 'This function was programmatically called via the host APIs.',
            timeoutMs,
        });
    } catch (error) {
        // The host refuses a body past its limit; an unhandled error is a bare 500 (invoke logged it).
        if (body.tooLarge) throw new BodyTooLargeError(undefined, { cause: error });
        send(res, 500);
        return;
    }
    // A function that answered before reading the whole body (a 413) leaves the rest on the connection: it closes.
    if (!req.complete) res.setHeader('connection', 'close');
    await writeResponse(res, result);
}

function serveAdmin(req: IncomingMessage, res: ServerResponse, url: URL, name: string, options: HttpServerOptions): Promise<void> {
    const refused = adminRefusal(req, url);
    if (refused) {
        hostLog('warning', `The admin API refused POST /admin/functions/${JSON.stringify(name)} with 403: ${refused}`);
        res.setHeader('connection', 'close');
        send(res, 403, { error: refused });
        req.resume();
        return Promise.resolve();
    }
    if (Number(req.headers['content-length'] ?? '0') > maxAdminBodyBytes) return Promise.reject(new BodyTooLargeError(`The request body is larger than ${maxAdminBodyBytes} bytes.`));
    return readAdminBody(req).then((body) => {
        let input: unknown;
        try {
            input = body.length > 0 ? ((JSON.parse(body.toString('utf8')) as { input?: unknown }).input ?? '') : '';
        } catch {
            return send(res, 400, { error: 'Send {"input": "..."} as JSON.' });
        }
        if (!options.runFunction(name, input)) return send(res, 404, { error: `There is no non-HTTP function named "${name}".` });
        return send(res, 202);
    });
}

function requestUrl(req: IncomingMessage): URL | undefined {
    try {
        return new URL(`http://${req.headers.host ?? 'localhost'}${req.url?.startsWith('/') ? req.url : '/'}`);
    } catch {
        return undefined;
    }
}

/** Serves the app's HTTP functions under the route prefix, and the admin API for the others. */
export function createHttpServer(options: HttpServerOptions): Server {
    const routes = options.functions.map((definition) => routeOf(definition, options.routePrefix));

    async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
        const admin = /^\/admin\/functions\/([^/]+)\/?$/i.exec(url.pathname);
        if (admin && req.method === 'POST') return serveAdmin(req, res, url, decodeSegment(admin[1] ?? ''), options);
        const match = matchRoute(routes, url.pathname, req.method ?? 'GET');
        if (!match) {
            send(res, 404);
            return;
        }
        return serveFunction(req, res, url, match.route, match.params, options.functionTimeoutMs);
    }

    const server = createServer((req, res) => {
        const url = requestUrl(req);
        if (!url) {
            send(res, 400, { error: 'The request target is not a valid URL.' });
            return;
        }
        handle(req, res, url).catch((error: unknown) => {
            if (error instanceof BodyTooLargeError) {
                // The rest of the body is not read, so the connection cannot carry another request.
                res.setHeader('connection', 'close');
                send(res, 413, { error: error.message || `The request body is larger than ${maxRequestBytes} bytes.` });
                req.resume();
                return;
            }
            hostLog('error', `Request ${req.method} ${url.pathname} failed:`, error);
            if (!res.headersSent) send(res, 500);
            else res.destroy();
        });
    });
    // Longer than the clients' idle timeouts, so a client never reuses a connection the host is closing.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    return server;
}
