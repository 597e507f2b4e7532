import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { azuriteConnectionString, type AzurePorts } from '../../src/host/azurite';

/** One storage request, named by what it does: `queue.send leads`, `table.insert LeadDeliveries`. */
export interface CountedCall {
    operation: string;
    resource: string;
    /** A receive that found no message: the host polling an idle queue, not work for a lead. */
    empty: boolean;
}

export interface StorageCounter {
    /** The connection string of the counting front; hand it to the app instead of Azurite's. */
    connectionString: string;
    /** The calls seen since the start, or since the last `reset`. */
    calls(): readonly CountedCall[];
    reset(): void;
    stop(): Promise<void>;
}

const account = 'devstoreaccount1';

/** `/devstoreaccount1/leads/messages/id` → ['leads', 'messages', 'id']; `/devstoreaccount1/Leads(PartitionKey='a',RowKey='b')` → ['Leads(…)']. */
function segments(path: string): string[] {
    const parts = decodeURIComponent(path).split('/').filter(Boolean);
    return parts[0] === account ? parts.slice(1) : parts;
}

function queueOperation(method: string, parts: readonly string[], query: URLSearchParams): string {
    const [, messages, id] = parts;
    if (messages !== 'messages') {
        if (parts.length === 0) return `queue.${query.get('comp') ?? 'service'}`;
        if (method === 'PUT') return query.get('comp') === 'metadata' ? 'queue.setMetadata' : 'queue.create';
        if (method === 'DELETE') return 'queue.deleteQueue';
        return 'queue.properties';
    }
    if (id === undefined) {
        if (method === 'POST') return 'queue.send';
        if (method === 'DELETE') return 'queue.clear';
        return query.get('peekonly') === 'true' ? 'queue.peek' : 'queue.receive';
    }
    return method === 'DELETE' ? 'queue.delete' : 'queue.update';
}

function tableOperation(method: string, parts: readonly string[], headers: IncomingMessage['headers']): { operation: string; resource: string } {
    const first = parts[0] ?? '';
    const resource = first.replace(/\(.*$/, '');
    if (resource === '$batch') return { operation: 'table.batch', resource: '' };
    if (resource === 'Tables') return { operation: method === 'POST' ? 'table.createTable' : method === 'DELETE' ? 'table.deleteTable' : 'table.listTables', resource: '' };
    const keyed = /\(PartitionKey='.*',RowKey='.*'\)$/.test(first);
    const conditional = headers['if-match'] !== undefined;
    switch (method) {
        case 'POST':
            return { operation: 'table.insert', resource };
        case 'GET':
            return { operation: keyed ? 'table.read' : 'table.query', resource };
        case 'PUT':
            return { operation: conditional ? 'table.replace' : 'table.upsertReplace', resource };
        case 'MERGE':
        case 'PATCH':
            return { operation: conditional ? 'table.merge' : 'table.upsertMerge', resource };
        case 'DELETE':
            return { operation: 'table.delete', resource };
        default:
            return { operation: `table.${method.toLowerCase()}`, resource };
    }
}

function classify(service: keyof AzurePorts, req: IncomingMessage): Omit<CountedCall, 'empty'> {
    const url = new URL(req.url ?? '/', 'http://storage');
    const parts = segments(url.pathname);
    const method = req.method ?? 'GET';
    if (service === 'queue') return { operation: queueOperation(method, parts, url.searchParams), resource: parts[0] ?? '' };
    if (service === 'table') return tableOperation(method, parts, req.headers);
    return { operation: `blob.${method.toLowerCase()}`, resource: parts[0] ?? '' };
}

/** Forwards one request to the real service and records it once its answer is known. */
function forward(target: number, service: keyof AzurePorts, record: (call: CountedCall) => void) {
    return (req: IncomingMessage, res: ServerResponse) => {
        const call = classify(service, req);
        const upstream = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
            const chunks: Buffer[] = [];
            answer.on('data', (chunk: Buffer) => chunks.push(chunk));
            answer.on('end', () => {
                const body = Buffer.concat(chunks);
                const empty = call.operation === 'queue.receive' && !body.toString('utf8').includes('<QueueMessage>');
                record({ ...call, empty });
                res.writeHead(answer.statusCode ?? 502, answer.headers).end(body);
            });
        });
        upstream.on('error', () => {
            if (!res.headersSent) res.writeHead(502).end();
            else res.destroy();
        });
        req.pipe(upstream);
    };
}

function listen(server: Server): Promise<number> {
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
}

/**
 * A counting front for Azurite: an HTTP proxy per storage service that names each request by its
 * operation and resource. Counts are exact and machine-independent, so tests can pin what a lead
 * costs in storage requests; receives that found nothing (idle polling) are marked apart.
 */
export async function startStorageCounter(azurite: { ports: AzurePorts }): Promise<StorageCounter> {
    let seen: CountedCall[] = [];
    const record = (call: CountedCall) => seen.push(call);
    const services = ['blob', 'queue', 'table'] as const;
    const servers = services.map((service) => createServer({ keepAlive: true }, forward(azurite.ports[service], service, record)));
    const [blob = 0, queue = 0, table = 0] = await Promise.all(servers.map(listen));
    return {
        connectionString: azuriteConnectionString({ blob, queue, table }),
        calls: () => seen,
        reset: () => {
            seen = [];
        },
        stop: async () => {
            await Promise.all(
                servers.map(
                    (server) =>
                        new Promise<void>((resolve) => {
                            server.closeAllConnections();
                            server.close(() => resolve());
                        }),
                ),
            );
        },
    };
}

/** Counts of the calls that did work, by `operation resource`, with idle polls and one-time set-up apart. */
export function tally(calls: readonly CountedCall[]): { work: Record<string, number>; idlePolls: number; setup: number; total: number } {
    const work: Record<string, number> = {};
    let idlePolls = 0;
    let setup = 0;
    for (const call of calls) {
        if (call.empty) idlePolls++;
        else if (['queue.create', 'table.createTable'].includes(call.operation)) setup++;
        else {
            const key = call.resource ? `${call.operation} ${call.resource}` : call.operation;
            work[key] = (work[key] ?? 0) + 1;
        }
    }
    const total = Object.values(work).reduce((sum, n) => sum + n, 0);
    return { work: Object.fromEntries(Object.entries(work).sort(([a], [b]) => a.localeCompare(b))), idlePolls, setup, total };
}
