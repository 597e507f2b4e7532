import type { InvocationContext } from '@azure/functions';

/**
 * Characters that would let a value from outside (a lead, a file, a request) forge or hide log text:
 * C0 and C1 controls (line breaks among them), the Unicode line and paragraph separators, bidi
 * controls that reorder what a reader sees, and zero-width characters that hide in it.
 */
// eslint-disable-next-line no-control-regex -- the control characters are what is escaped
const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u200b-\u200d\u2060\ufeff]/g;

/**
 * Text as it may appear in a log: every character above written as \u{…}. What comes out has none
 * of them, so escaping it again changes nothing (the local host's log escapes what the app escaped).
 */
export function escapeLogText(text: string): string {
    return text.replace(unsafe, (char) => `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`);
}

/**
 * An error as its escaped name and message on one line, then its stack's code locations, a line
 * each. The frames are what follows the message in the stack, never lines that merely look like
 * frames: a message may hold "\n    at …" of its own.
 */
function errorText(error: Error): string {
    const head = `${error.name}: ${error.message}`;
    const stack = error.stack ?? '';
    const frames = stack.startsWith(head) ? stack.slice(head.length).split('\n').filter(Boolean) : [];
    return [escapeLogText(head), ...frames.map(escapeLogText)].join('\n');
}

/** A log call's argument with any outside text in it escaped. */
export function escapeLogArgument(argument: unknown): unknown {
    if (typeof argument === 'string') return escapeLogText(argument);
    if (argument instanceof Error) return errorText(argument);
    return argument;
}

const logMethods = new Set<string | symbol>(['log', 'trace', 'debug', 'info', 'warn', 'error']);

/**
 * The invocation context a function's code gets: the same, but every log call escapes its
 * arguments. This is the one place every log line of the app passes, in Azure as locally
 * (src/runtime/define.ts hands each handler this context).
 */
export function escapingContext(context: InvocationContext): InvocationContext {
    return new Proxy(context, {
        get(target, property) {
            const value: unknown = Reflect.get(target, property, target);
            if (typeof value !== 'function') return value;
            const method = value as (...args: unknown[]) => unknown;
            if (logMethods.has(property)) return (...args: unknown[]) => method.apply(target, args.map(escapeLogArgument));
            return method.bind(target);
        },
    });
}
