import type { InvocationContext } from '@azure/functions';
import { settings } from '../config/settings';
import { checkLines } from './checkLines';
import type { CheckResult } from './checkResult';
import { recordChecks } from './recordChecks';
import { checkTargets, runChecks } from './runChecks';

/**
 * Checks every destination leads can go to, and the mail transport: one log line each (a warning
 * or an error when not ok), the results kept for the console, an alert event for each failing one.
 */
export async function checkDestinations(context: InvocationContext, s = settings()): Promise<CheckResult[]> {
    const targets = checkTargets(s);
    if (targets.length === 0) {
        context.log('Destination checks: nothing to check (leads go only to the table, and mail to the outbox).');
        return [];
    }
    const results = await runChecks(targets, s);
    const lines = checkLines(results);
    results.forEach((result, i) => {
        const line = `Destination check: ${lines[i] ?? ''}`;
        if (result.status === 'ok') context.log(line);
        else if (result.status === 'warning') context.warn(line);
        else context.error(line);
    });
    await recordChecks(s, results, (line) => context.error(line));
    return results;
}
