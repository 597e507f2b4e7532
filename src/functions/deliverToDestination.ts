import type { DestinationName } from '../config/destinationNames';
import { destinationsToRegister } from '../config/registeredDestinations';
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

/*
 * One queue trigger per destination, so that one that hangs or is down delays only itself; and only
 * for the destinations routing uses, so that an idle app polls no queue that never gets a message.
 * The app settings are in process.env when this file loads: in Azure the Node worker loads the app
 * at WorkerInitRequest in a process started with them, or, on an instance specialised from a
 * placeholder, at FunctionEnvironmentReloadRequest after it replaced process.env with the request's
 * variables (Azure/azure-functions-nodejs-worker, src/eventHandlers/WorkerInitHandler.ts and
 * FunctionEnvironmentReloadHandler.ts, each calling startApp). Changing an app setting restarts the
 * app, which loads this file again, and 30 s after a start the host sends the platform's scale
 * controller the triggers it found when they changed (Azure/azure-functions-host,
 * src/WebJobs.Script.WebHost/FunctionsSyncService.cs, TrySyncTriggersAsync with checkHash), so a
 * queue without a trigger stops being watched too. The local host applies local.settings.json
 * first (src/host/cli.ts).
 */
export const deliverToDestination = destinationsToRegister(process.env).map(destinationFunction);
