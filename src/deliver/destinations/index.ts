import type { DestinationName, Settings } from '../../config/settings';
import type { Destination } from '../destination';

/** Each destination's module is loaded only when a lead is routed to it. */
const factories: Record<DestinationName, (settings: Settings) => Promise<Destination>> = {
    table: async (settings) => (await import('./table')).TableDestination.create(settings),
    webhook: async (settings) => (await import('./webhook')).WebhookDestination.create(settings),
    dynamics: async (settings) => (await import('./dynamics')).DynamicsDestination.create(settings),
    salesforce: async (settings) => (await import('./salesforce')).SalesforceDestination.create(settings),
    marketo: async (settings) => (await import('./marketo')).MarketoDestination.create(settings),
    hubspot: async (settings) => (await import('./hubspot')).HubSpotDestination.create(settings),
};

const created = new Map<DestinationName, Promise<Destination>>();

/** The destination of that name, made once from the settings. */
export function destinationNamed(name: DestinationName, settings: Settings): Promise<Destination> {
    let destination = created.get(name);
    if (!destination) {
        destination = factories[name](settings);
        created.set(name, destination);
        destination.catch(() => created.delete(name));
    }
    return destination;
}
