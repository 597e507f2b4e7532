/** The functions the app registers whatever its settings. */
const alwaysRegistered = ['checkDestinations', 'deliverLead', 'leadConsole', 'notifyContacts', 'receiveLead', 'sendAlerts'];

/** Every function the app registers beside these destinations' queue triggers (`deliverTable`, ...), sorted. */
export function functionNamesWith(deliveryFunctions: readonly string[]): string[] {
    return [...alwaysRegistered, ...deliveryFunctions].sort();
}

/** What the local host loads and the worker registers with the default routing: the table alone. */
export const appFunctionNames = functionNamesWith(['deliverTable']);
