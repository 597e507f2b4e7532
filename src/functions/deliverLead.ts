import { queueFunction } from '../runtime/define';
import { lazy } from '../runtime/lazy';

const delivery = lazy(() => import('../deliver/deliverLead'));

/** Fans each lead on LEADS_QUEUE out to its destinations. */
export const deliverLead = queueFunction('deliverLead', {
    queueName: '%LEADS_QUEUE%',
    connection: 'AzureWebJobsStorage',
    handler: async (message, context) => (await delivery()).deliverLead(message, context),
});
