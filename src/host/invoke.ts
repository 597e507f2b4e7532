import { randomUUID } from 'node:crypto';
import { InvocationContext, type FunctionTrigger, type TriggerMetadata } from '@azure/functions';
import { hostLog, type LogLevel } from './log';

export class FunctionTimeoutError extends Error {
    constructor(functionName: string, timeoutMs: number) {
        super(
            `Function "${functionName}" did not finish within the functionTimeout of ${timeoutMs} ms. In Azure this restarts the worker process and fails every invocation running on it; the local host abandons only this one.`,
        );
        this.name = 'FunctionTimeoutError';
    }
}

export interface Invocation {
    functionName: string;
    trigger: FunctionTrigger;
    reason: string;
    timeoutMs: number;
    triggerMetadata?: TriggerMetadata;
}

type Handler = (input: never, context: InvocationContext) => unknown;

/**
 * Runs one function invocation the way the Functions host does: a fresh InvocationContext whose
 * logs carry the function name, "Executing"/"Executed" lines, and the host's functionTimeout.
 */
export async function invoke(handler: Handler, input: unknown, invocation: Invocation): Promise<unknown> {
    const { functionName, timeoutMs } = invocation;
    const invocationId = randomUUID();
    const context = new InvocationContext({
        invocationId,
        functionName,
        triggerMetadata: invocation.triggerMetadata,
        options: { trigger: invocation.trigger },
        logHandler: (level: LogLevel, ...args: unknown[]) => hostLog(level, `${functionName}:`, ...args),
    });
    const started = performance.now();
    hostLog('information', `Executing 'Functions.${functionName}' (Reason='${invocation.reason}', Id=${invocationId})`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new FunctionTimeoutError(functionName, timeoutMs)), timeoutMs);
    });
    try {
        const result = await Promise.race([Promise.resolve().then(() => (handler as (i: unknown, c: InvocationContext) => unknown)(input, context)), timeout]);
        hostLog('information', `Executed 'Functions.${functionName}' (Succeeded, Id=${invocationId}, Duration=${Math.round(performance.now() - started)}ms)`);
        return result;
    } catch (error) {
        hostLog('error', `Executed 'Functions.${functionName}' (Failed, Id=${invocationId}, Duration=${Math.round(performance.now() - started)}ms)`, error);
        throw error;
    } finally {
        clearTimeout(timer);
    }
}
