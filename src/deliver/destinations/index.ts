import { settingsByDestination, unresolvedProblems, type DestinationName, type Settings } from '../../config/settings';
import { DeliveryFailure, type Destination } from '../destination';

/** Each destination's module is loaded only when a lead is routed to it. */
const factories: Record<DestinationName, (settings: Settings) => Promise<Destination>> = {
    table: async (settings) => (await import('./table')).TableDestination.create(settings),
    webhook: async (settings) => (await import('./webhook')).WebhookDestination.create(settings),
    dynamics: async (settings) => (await import('./dynamics')).DynamicsDestination.create(settings),
    salesforce: async (settings) => (await import('./salesforce')).SalesforceDestination.create(settings),
    marketo: async (settings) => (await import('./marketo')).MarketoDestination.create(settings),
    hubspot: async (settings) => (await import('./hubspot')).HubSpotDestination.create(settings),
    'salesforce-api': async (settings) => (await import('./salesforceApi')).SalesforceApiDestination.create(settings),
    teams: async (settings) => (await import('./teams')).TeamsDestination.create(settings),
    slack: async (settings) => (await import('./slack')).SlackDestination.create(settings),
};

const created = new Map<DestinationName, Promise<Destination>>();

/**
 * A destination whose settings hold a Key Vault reference Azure could not resolve: each lead fails
 * at once, permanently (to the poison queue, for a replay once access is fixed), and the CRM is
 * never sent the reference's text as a secret.
 */
function unresolvedDestination(name: DestinationName, problems: string[]): Destination {
    return {
        name,
        maxCalls: 1,
        // It never calls out, so trying again can repeat nothing.
        idempotent: true,
        deliver: () => Promise.reject(new DeliveryFailure(`The ${name} destination cannot be used: ${problems.join('; ')}.`, 'permanent')),
    };
}

/** The destination of that name, made once from the settings. */
export function destinationNamed(name: DestinationName, settings: Settings): Promise<Destination> {
    let destination = created.get(name);
    if (!destination) {
        const problems = unresolvedProblems(settings, settingsByDestination[name]);
        destination = problems.length > 0 ? Promise.resolve(unresolvedDestination(name, problems)) : factories[name](settings);
        created.set(name, destination);
        destination.catch(() => created.delete(name));
    }
    return destination;
}
