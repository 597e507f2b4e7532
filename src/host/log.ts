import { format } from 'node:util';
import { escapeLogArgument } from '../runtime/logText';

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';

const pending = { stdout: [] as string[], stderr: [] as string[] };
let flushScheduled = false;

/** Writes what this turn of the event loop logged in one write per stream: a line per write costs a system call each. */
function flush(): void {
    flushScheduled = false;
    if (pending.stdout.length > 0) process.stdout.write(pending.stdout.splice(0).join(''));
    if (pending.stderr.length > 0) process.stderr.write(pending.stderr.splice(0).join(''));
}

process.on('exit', flush);

/** One line per entry, as `func start` prints them: time, then the message, its values escaped (escapeLogArgument). */
export function hostLog(level: LogLevel, ...rawArgs: unknown[]): void {
    const args = rawArgs.map(escapeLogArgument);
    // Most lines are plain text: joined as util.format would, without its per-argument inspection.
    const text = args.every((arg) => typeof arg === 'string') ? args.join(' ') : format(...args);
    const line = `[${new Date().toISOString()}] ${text}\n`;
    (level === 'error' || level === 'critical' || level === 'warning' ? pending.stderr : pending.stdout).push(line);
    if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
    }
}
