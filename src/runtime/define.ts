import { app, type HttpFunctionOptions, type InvocationContext, type StorageQueueFunctionOptions, type TimerFunctionOptions } from '@azure/functions';
import { escapingContext } from './logText';

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

/** The options with a handler whose context escapes every log argument (escapingContext). */
function withEscapedLogs<O extends { handler: (input: never, context: InvocationContext) => unknown }>(options: O): O {
    const handler = options.handler as (input: unknown, context: InvocationContext) => unknown;
    return { ...options, handler: (input: unknown, context: InvocationContext) => handler(input, escapingContext(context)) };
}

export function httpFunction(name: string, options: HttpFunctionOptions): HttpFunctionDefinition {
    const escaped = withEscapedLogs(options);
    app.http(name, escaped);
    return { [definitionBrand]: true, kind: 'http', name, options: escaped };
}

export function queueFunction(name: string, options: StorageQueueFunctionOptions): QueueFunctionDefinition {
    const escaped = withEscapedLogs(options);
    app.storageQueue(name, escaped);
    return { [definitionBrand]: true, kind: 'queue', name, options: escaped };
}

export function timerFunction(name: string, options: TimerFunctionOptions): TimerFunctionDefinition {
    const escaped = withEscapedLogs(options);
    app.timer(name, escaped);
    return { [definitionBrand]: true, kind: 'timer', name, options: escaped };
}

export function isFunctionDefinition(value: unknown): value is FunctionDefinition {
    return typeof value === 'object' && value !== null && definitionBrand in value;
}
