import { timerFunction } from '../runtime/define';
import { lazy } from '../runtime/lazy';

const checks = lazy(() => import('../check/checkDestinations'));

/**
 * Every CHECK_SCHEDULE (daily): tests each destination's credentials, fields and limits, creating
 * nothing. No runOnStartup, which Azure would repeat at every scale-out and restart: `npm start`
 * runs it once when it starts, and a deployment once through the admin API (see the README).
 */
export const checkDestinations = timerFunction('checkDestinations', {
    schedule: '%CHECK_SCHEDULE%',
    handler: async (_timer, context) => {
        await (await checks()).checkDestinations(context);
    },
});
