import { app } from '@azure/functions';
import { timerFunction } from '../runtime/define';
import { deploymentId } from '../runtime/deployment';
import { lazy } from '../runtime/lazy';

const checks = lazy(() => import('../check/checkDestinations'));

/**
 * Every CHECK_SCHEDULE (daily): tests each destination's credentials, fields and limits, creating
 * nothing. No runOnStartup, which Azure would repeat at every scale-out and restart: `npm start`
 * runs it once when it starts, and a deployed package once, on the first instance that starts
 * with it (checkAfterDeployment), without holding up the start.
 */
export const checkDestinations = timerFunction('checkDestinations', {
    schedule: '%CHECK_SCHEDULE%',
    handler: async (_timer, context) => {
        await (await checks()).checkDestinations(context);
    },
});

// The Node worker runs the appStart hooks once it has loaded the app's files, on every worker start
// (azure-functions-nodejs-worker, src/startApp.ts: startApp, then executeHooks('appStart')); the
// deployment's claim in CHECKS_TABLE makes that once per package.
const deployed = deploymentId();
if (deployed) {
    app.hook.appStart(() => {
        void import('../check/afterDeployment').then((module) => module.checkAfterDeployment(deployed));
    });
}
