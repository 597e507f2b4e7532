import { InvocationContext } from '@azure/functions';
import { settings, type Settings } from '../config/settings';
import { deploymentId } from '../runtime/deployment';
import { escapingContext } from '../runtime/logText';
import { checkDestinations } from './checkDestinations';
import { CheckStore } from './checkStore';

/**
 * Runs the destination checks once per deployment, on the first instance to start with a new
 * package: the others, and later restarts and scale-outs, find the deployment claimed in
 * CHECKS_TABLE. A failure is logged, never thrown: the app starts all the same.
 */
export async function checkAfterDeployment(
    id: string | undefined = deploymentId(),
    read: () => Settings = settings,
    context = escapingContext(new InvocationContext({ functionName: 'checkDestinations' })),
): Promise<'checked' | 'claimed elsewhere' | 'not deployed' | 'failed'> {
    if (!id) return 'not deployed';
    try {
        const s = read();
        const store = await CheckStore.connect(s.storage, s.CHECKS_TABLE);
        if (!(await store.claimDeployment(id))) return 'claimed elsewhere';
        context.log(`Checking the destinations once after deployment ${id}.`);
        await checkDestinations(context, s);
        return 'checked';
    } catch (error) {
        context.error(`The destination check after deployment ${id} failed: ${error instanceof Error ? error.message : String(error)}. The daily check (CHECK_SCHEDULE) runs all the same.`);
        return 'failed';
    }
}
