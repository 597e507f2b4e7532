import { destinationNames, type DestinationName } from '../config/destinationNames';
import { queueFunction, type QueueFunctionDefinition } from '../runtime/define';
import { deliveryFunctionName } from '../runtime/deliveryFunctionName';
import { lazy } from '../runtime/lazy';

const delivery = lazy(() => import('../deliver/deliverToDestination'));

/** `deliverWebhook` on `%LEADS_QUEUE%-webhook`, `deliverSalesforceApi` on `%LEADS_QUEUE%-salesforce-api`, and so on: each destination drains its own queue. */
function destinationFunction(destination: DestinationName): QueueFunctionDefinition {
    return queueFunction(deliveryFunctionName(destination), {
        queueName: `%LEADS_QUEUE%-${destination}`,
        connection: 'AzureWebJobsStorage',
        handler: async (message, context) => {
            await (await delivery()).deliverToDestination(message, context);
        },
    });
}

/** One queue trigger per destination, so that one that hangs or is down delays only itself. */
export const deliverToDestination = destinationNames.map(destinationFunction);
