import { app, type HttpFunctionOptions, type StorageQueueFunctionOptions, type TimerFunctionOptions } from '@azure/functions';

const definitionBrand = Symbol.for('marketplace-leads.function-definition');

/*
 * Without HTTP streaming the Functions host passes a request body to a Node worker only when it has
 * a Content-Length: a chunked POST would reach intake empty and be refused, a lead lost. With it the
 * host forwards the request itself, and intake counts the body against its limit as it streams in.
 * Needs @azure/functions 4.3 and host 4.28 or later. Every function file imports this module before
 * registering anything, so it runs once, before the first registration.
 */
app.setup({ enableHttpStream: true });

interface Definition<K extends string, O> {
    readonly [definitionBrand]: true;
    readonly kind: K;
    readonly name: string;
    readonly options: O;
}

export type HttpFunctionDefinition = Definition<'http', HttpFunctionOptions>;
export type QueueFunctionDefinition = Definition<'queue', StorageQueueFunctionOptions>;
export type TimerFunctionDefinition = Definition<'timer', TimerFunctionOptions>;
export type FunctionDefinition = HttpFunctionDefinition | QueueFunctionDefinition | TimerFunctionDefinition;

/*
 * Each function is declared once: the same options object registers it with Azure Functions and
 * is what the local host serves, so the two cannot drift apart. Outside Azure, `app.*` is a no-op.
 */

export function httpFunction(name: string, options: HttpFunctionOptions): HttpFunctionDefinition {
    app.http(name, options);
    return { [definitionBrand]: true, kind: 'http', name, options };
}

export function queueFunction(name: string, options: StorageQueueFunctionOptions): QueueFunctionDefinition {
    app.storageQueue(name, options);
    return { [definitionBrand]: true, kind: 'queue', name, options };
}

export function timerFunction(name: string, options: TimerFunctionOptions): TimerFunctionDefinition {
    app.timer(name, options);
    return { [definitionBrand]: true, kind: 'timer', name, options };
}

export function isFunctionDefinition(value: unknown): value is FunctionDefinition {
    return typeof value === 'object' && value !== null && definitionBrand in value;
}
