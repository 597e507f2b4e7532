import type { DestinationName } from '../config/destinationNames';

/** `webhook` → `deliverWebhook`, `salesforce-api` → `deliverSalesforceApi`: a function name has letters and digits only. */
export function deliveryFunctionName(destination: DestinationName): string {
    const capitalised = destination
        .split('-')
        .map((part) => `${part[0]?.toUpperCase() ?? ''}${part.slice(1)}`)
        .join('');
    return `deliver${capitalised}`;
}
