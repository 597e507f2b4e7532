/** Every function the app defines, sorted: what the local host loads and what the worker registers. */
export const appFunctionNames = [
    'checkDestinations',
    'deliverDynamics',
    'deliverHubspot',
    'deliverLead',
    'deliverMarketo',
    'deliverSalesforce',
    'deliverSalesforceApi',
    'deliverSlack',
    'deliverTable',
    'deliverTeams',
    'deliverWebhook',
    'leadConsole',
    'notifyContacts',
    'receiveLead',
    'sendAlerts',
];
