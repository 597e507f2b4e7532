import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type Agent, type OutgoingHttpHeaders } from 'node:http';
import type { RpcBindingInfo, RpcInvocationRequest, RpcInvocationResponse, RpcLogCategory, RpcLogLevel, RpcTypedData } from './coreTypes';
import type * as FakeCore from './fakeFunctionsCore';

/*
 * What the Node worker does with the host's messages, for a process whose NODE_PATH resolves
 * `@azure/functions-core` to the fake (see fakeCoreModules.ts). Shapes, and where they come from:
 * - The worker (Azure/azure-functions-nodejs-worker 3.x, src/eventHandlers/InvocationHandler.ts)
 *   builds a CoreInvocationContext { invocationId, request, metadata, state, log } and calls
 *   getInvocationModel → getArguments → invokeFunction → getResponse; at start-up, after loading
 *   the files of package.json "main", it asks getCapabilities, which starts the HTTP proxy when
 *   streaming is on.
 * - The host (Azure/azure-functions-host, src/WebJobs.Script.Grpc/MessageExtensions/
 *   GrpcMessageConversionExtensions.cs, ToRpcHttp) sends an empty `http` input once the worker
 *   reports HttpUri, and forwards the request itself to that address with `x-ms-invocation-id`
 *   (DefaultHttpProxyService, YARP, which adds X-Forwarded-Host and -Proto); the headers also
 *   travel as the `Headers` trigger metadata. Without streaming, ToRpcHttp copies a body only when
 *   `request.ContentLength > 0`: a chunked body never arrives.
 */

// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded by the name the library loads it by, which has no typings here
export const core = require('@azure/functions-core') as typeof FakeCore;

export function binding(functionName: string, direction: 'in' | 'out', match: (b: RpcBindingInfo) => boolean = () => true): [string, RpcBindingInfo] {
    const registered = core.registered.get(functionName) ?? assert.fail(`The function "${functionName}" is not registered.`);
    const found = Object.entries(registered.metadata.bindings).find(([, b]) => b.direction === direction && match(b));
    return found ?? assert.fail(`The function "${functionName}" has no "${direction}" binding.`);
}

export const isTrigger = (b: RpcBindingInfo): boolean => /Trigger$/.test(String(b.type));

/** As the worker, after the host loaded the app: load every file, then ask for the capabilities; the HTTP proxy's address. */
export async function startAppAsWorker(files: readonly string[]): Promise<string> {
    for (const file of files) await import(file);
    const capabilities = (await core.getProgrammingModel().getCapabilities?.({})) ?? {};
    return capabilities.HttpUri ?? '';
}

/** What the worker does with one InvocationRequest for a function. */
export async function invoke(functionName: string, request: RpcInvocationRequest): Promise<RpcInvocationResponse> {
    const registered = core.registered.get(functionName) ?? assert.fail(`The function "${functionName}" is not registered.`);
    const invocationId = request.invocationId ?? randomUUID();
    const coreContext = {
        invocationId,
        request: { ...request, invocationId },
        metadata: { name: functionName, bindings: registered.metadata.bindings, functionId: functionName },
        state: undefined as 'invocation' | undefined,
        log: (level: RpcLogLevel, category: RpcLogCategory, message: string) => core.log(level, category, message),
    };
    const model = await core.getProgrammingModel().getInvocationModel(coreContext);
    const { context, inputs } = await model.getArguments();
    coreContext.state = 'invocation';
    const result = await model.invokeFunction(context, inputs, registered.callback);
    coreContext.state = undefined;
    return model.getResponse(context, result);
}

export interface ProxiedAnswer {
    status: number;
    body: string;
    invocation: RpcInvocationResponse;
}

export interface ProxiedPost {
    functionName: string;
    body: string;
    contentType: string;
    framing: 'content-length' | 'chunked';
    agent?: Agent;
}

/** An HTTP invocation with streaming on: the host forwards the request to the worker's proxy and sends the invocation beside it. */
export async function postThroughProxy(httpUri: string, post: ProxiedPost): Promise<ProxiedAnswer> {
    const { functionName, body, contentType, framing } = post;
    const invocationId = randomUUID();
    const [triggerName] = binding(functionName, 'in', isTrigger);
    const headers: OutgoingHttpHeaders = { 'content-type': contentType, 'x-ms-invocation-id': invocationId, 'x-forwarded-host': 'contoso-leads.azurewebsites.net', 'x-forwarded-proto': 'https' };
    if (framing === 'chunked') headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(Buffer.byteLength(body));
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(new URL('api/leads?code=key', httpUri), { method: 'POST', headers, agent: post.agent }, (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        // Chunked: written in pieces, as a sender that streams does, with no length up front.
        for (let at = 0; at < body.length; at += 4096) req.write(body.slice(at, at + 4096));
        req.end();
    });
    const hostHeaders = { 'content-type': contentType, host: 'contoso-leads.azurewebsites.net', ...(framing === 'chunked' ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(Buffer.byteLength(body)) }) };
    const triggerMetadata: Record<string, RpcTypedData> = { Headers: { json: JSON.stringify(hostHeaders) }, Query: { json: JSON.stringify({ code: 'key' }) } };
    const invocation = invoke(functionName, { invocationId, inputData: [{ name: triggerName, data: { http: {} } }], triggerMetadata });
    const [reply, response] = await Promise.all([answer, invocation]);
    return { ...reply, invocation: response };
}
