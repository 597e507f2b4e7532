/*
 * The part of `@azure/functions-core` this test needs, written from its declaration in
 * Azure/azure-functions-nodejs-library `types-core/index.d.ts` (commit 064cc490de06c7f91756bdb7d6d8fe52104c1a10,
 * the library line 4.x that `@azure/functions` 4.16.5 is built against). The worker
 * (Azure/azure-functions-nodejs-worker) provides the real module at run time.
 */

export interface RpcTypedData {
    string?: string | null;
    json?: string | null;
    bytes?: Uint8Array | null;
    http?: RpcHttpData | null;
    int?: number | null;
}

export interface RpcHttpData {
    method?: string | null;
    url?: string | null;
    headers?: Record<string, string> | null;
    body?: RpcTypedData | null;
    params?: Record<string, string> | null;
    query?: Record<string, string> | null;
}

export interface RpcBindingInfo {
    type?: string | null;
    direction?: 'in' | 'out' | 'inout' | null;
    dataType?: 'undefined' | 'string' | 'binary' | 'stream' | null;
    [property: string]: unknown;
}

export interface FunctionMetadata {
    name: string;
    functionId?: string;
    bindings: Record<string, RpcBindingInfo>;
    retryOptions?: unknown;
}

export type FunctionCallback = (...args: unknown[]) => unknown;

export interface RpcInvocationRequest {
    invocationId?: string | null;
    functionId?: string | null;
    inputData?: { name?: string | null; data?: RpcTypedData | null }[] | null;
    triggerMetadata?: Record<string, RpcTypedData> | null;
}

export interface RpcInvocationResponse {
    invocationId?: string | null;
    outputData?: { name?: string | null; data?: RpcTypedData | null }[] | null;
    returnValue?: RpcTypedData | null;
}

export type RpcLogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';
export type RpcLogCategory = 'user' | 'system' | 'customMetric';

export interface CoreInvocationContext {
    invocationId: string;
    request: RpcInvocationRequest;
    metadata: { name?: string | null; bindings?: Record<string, RpcBindingInfo> | null; functionId?: string | null };
    state?: 'preInvocationHooks' | 'postInvocationHooks' | 'invocation';
    log(level: RpcLogLevel, category: RpcLogCategory, message: string): void;
}

export interface InvocationModel {
    getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
    invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
    getResponse(context: unknown, result: unknown): Promise<RpcInvocationResponse>;
}

export interface ProgrammingModel {
    name: string;
    version: string;
    getInvocationModel(coreContext: CoreInvocationContext): InvocationModel | Promise<InvocationModel>;
    getCapabilities?(defaultCapabilities: Record<string, string>): Record<string, string> | Promise<Record<string, string>>;
}
