import { missingSettingsOf, settingsByDestination, unresolvedProblems, mailSettingsProblems, type Settings } from '../config/settings';
import { routedDestinations } from '../deliver/routing';
import { CheckProblem, type CheckOptions, type CheckResult, type CheckTarget } from './checkResult';

type Check = (settings: Settings, options: CheckOptions) => Promise<string>;

/** Each target's check, its module loaded only when it runs. */
const checks: Record<CheckTarget, Check> = {
    webhook: async (s, o) => (await import('./webhook')).checkWebhook(s, o),
    dynamics: async (s, o) => (await import('./dynamics')).checkDynamics(s, o),
    salesforce: async (s) => (await import('./webToLead')).checkWebToLead(s),
    'salesforce-api': async (s, o) => (await import('./salesforceApi')).checkSalesforceApi(s, o),
    marketo: async (s, o) => (await import('./marketo')).checkMarketo(s, o),
    hubspot: async (s, o) => (await import('./hubspot')).checkHubSpot(s, o),
    teams: async (s, o) => (await import('./channels')).checkChannel('teams', s, o),
    slack: async (s, o) => (await import('./channels')).checkChannel('slack', s, o),
    mail: async (s, o) => (await import('./mail')).checkMail(s, o),
};

export function isCheckTarget(name: string): name is CheckTarget {
    return Object.hasOwn(checks, name);
}

/** The destinations leads can be routed to, and mail when it goes through a server (not the local outbox). */
export function checkTargets(settings: Settings): CheckTarget[] {
    const destinations = [...routedDestinations(settings)].filter((name): name is Exclude<typeof name, 'table'> => name !== 'table');
    return settings.EMAIL_TRANSPORT === 'outbox' ? destinations : [...destinations, 'mail'];
}

/** A token and two calls, each bounded by DELIVERY_TIMEOUT_SECONDS, and a little room: no check runs longer. */
const callsPerCheck = 4;

/** Settings a check cannot run without: missing ones (`--destination` may name a destination no lead goes to), unresolved Key Vault references. */
function settingsProblems(target: CheckTarget, settings: Settings): string[] {
    return target === 'mail' ? mailSettingsProblems(settings) : [...missingSettingsOf(target, settings), ...unresolvedProblems(settings, settingsByDestination[target])];
}

/** Runs one check to its end or its deadline: whatever happens, it answers ok, warning or failing. */
export async function runCheck(target: CheckTarget, settings: Settings, post = false, now = new Date()): Promise<CheckResult> {
    const limitMs = settings.DELIVERY_TIMEOUT_SECONDS * 1000 * callsPerCheck;
    const signal = AbortSignal.timeout(limitMs);
    const result = (status: CheckResult['status'], summary: string): CheckResult => ({ target, status, summary, checkedAt: now.toISOString() });
    const problems = settingsProblems(target, settings);
    if (problems.length > 0) return result('failing', `${problems.join('; ')}.`);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CheckProblem(`The ${target} check did not finish within ${limitMs} ms: check that the service answers (DELIVERY_TIMEOUT_SECONDS bounds each call).`)), limitMs);
    });
    try {
        return result('ok', await Promise.race([checks[target](settings, { signal, post }), deadline]));
    } catch (error) {
        if (error instanceof CheckProblem) return result(error.status, error.message);
        // Anything else is this app's own failure (storage, a bug): its name only, as its message may quote a setting or a URL.
        return result('failing', `The ${target} check failed with ${error instanceof Error ? error.name : 'an error'}: the app's own storage or code failed, not the service; try again.`);
    } finally {
        clearTimeout(timer);
    }
}

/** Runs the checks of `targets` at once. */
export function runChecks(targets: readonly CheckTarget[], settings: Settings, post = false): Promise<CheckResult[]> {
    return Promise.all(targets.map((target) => runCheck(target, settings, post)));
}
