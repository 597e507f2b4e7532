import { destinationNames, type DestinationName } from '../config/settings';
import { queueFunction, type QueueFunctionDefinition } from '../runtime/define';
import { lazy } from '../runtime/lazy';

const delivery = lazy(() => import('../deliver/deliverToDestination'));

/** `salesforce-api` → `SalesforceApi`: a function name has letters and digits only. */
function capitalised(name: string): string {
    return name
        .split('-')
        .map((part) => `${part[0]?.toUpperCase() ?? ''}${part.slice(1)}`)
        .join('');
}

/** `deliverWebhook` on `%LEADS_QUEUE%-webhook`, `deliverSalesforceApi` on `%LEADS_QUEUE%-salesforce-api`, and so on: each destination drains its own queue. */
function destinationFunction(destination: DestinationName): QueueFunctionDefinition {
    return queueFunction(`deliver${capitalised(destination)}`, {
        queueName: `%LEADS_QUEUE%-${destination}`,
        connection: 'AzureWebJobsStorage',
        handler: async (message, context) => {
            await (await delivery()).deliverToDestination(message, context);
        },
    });
}

/** One queue trigger per destination, so that one that hangs or is down delays only itself. */
export const deliverToDestination = destinationNames.map(destinationFunction);
