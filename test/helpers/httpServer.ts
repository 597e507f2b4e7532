import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
    method: string;
    path: string;
    headers: IncomingMessage['headers'];
    body: string;
}

export type Responder = (request: RecordedRequest, res: ServerResponse) => unknown;

export interface TestServer {
    url: string;
    requests: RecordedRequest[];
    respond: Responder;
    close(): Promise<void>;
}

/** A local HTTP(S) server that records each request and answers with `respond`, which tests may swap. */
export async function startTestServer(respond: Responder, tls?: { key: string; cert: string }): Promise<TestServer> {
    const state: TestServer = { url: '', requests: [], respond, close: () => Promise.resolve() };
    const handler = (req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
            const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
            state.requests.push(recorded);
            void Promise.resolve(state.respond(recorded, res)).catch(() => res.destroy());
        });
    };
    const server: Server = tls ? createHttpsServer(tls, handler) : createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    state.url = `${tls ? 'https' : 'http'}://${tls ? 'localhost' : '127.0.0.1'}:${port}`;
    state.close = () =>
        new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        });
    return state;
}

export function json(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): ServerResponse {
    const text = body === undefined ? '' : JSON.stringify(body);
    return res.writeHead(status, { ...(text ? { 'content-type': 'application/json' } : {}), ...headers }).end(text);
}
