import { format } from 'node:util';

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';

/** One line per entry, as `func start` prints them: time, then the message. */
export function hostLog(level: LogLevel, ...args: unknown[]): void {
    const line = `[${new Date().toISOString()}] ${format(...args)}\n`;
    if (level === 'error' || level === 'critical' || level === 'warning') process.stderr.write(line);
    else process.stdout.write(line);
}
