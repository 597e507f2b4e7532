import { timerFunction } from '../runtime/define';
import { lazy } from '../runtime/lazy';

const notify = lazy(() => import('../notify/notifyContacts'));

/** Every NOTIFY_SCHEDULE: one digest e-mail about the leads stored since the last one sent. */
export const notifyContacts = timerFunction('notifyContacts', {
    schedule: '%NOTIFY_SCHEDULE%',
    handler: async (_timer, context) => {
        await (await notify()).notifyContacts(context);
    },
});
