import type { CheckResult } from './checkResult';

/** One line per check, as the CLI and `npm start` print them: target, status, what it found. */
export function checkLines(results: readonly CheckResult[]): string[] {
    return results.map((r) => `${r.target.padEnd(15)} ${r.status.padEnd(8)} ${r.summary}`);
}
