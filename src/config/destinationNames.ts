/**
 * Every destination the app can deliver to. Kept apart from the settings schema: the function
 * files name one queue trigger per destination when they load, and must not pay for zod then.
 */
export const destinationNames = ['table', 'webhook', 'dynamics', 'salesforce', 'salesforce-api', 'marketo', 'hubspot', 'teams', 'slack'] as const;
export type DestinationName = (typeof destinationNames)[number];
