import { timerFunction } from '../runtime/define';
import { lazy } from '../runtime/lazy';

const alerts = lazy(() => import('../alert/sendAlerts'));

/** Every ALERT_SCHEDULE: one mail per alert kind that is due (poisoned, failing, set aside, quiet) to ALERT_TO. */
export const sendAlerts = timerFunction('sendAlerts', {
    schedule: '%ALERT_SCHEDULE%',
    handler: async (_timer, context) => {
        await (await alerts()).sendAlerts(context);
    },
});
