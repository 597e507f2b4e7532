import type { DestinationName, Settings } from '../config/settings';
import type { Lead } from '../lead/lead';

type RoutingSettings = Pick<Settings, 'LEAD_DESTINATIONS' | 'LEAD_ROUTES' | 'DNC_DESTINATIONS' | 'DELIVER_TEST_LEADS'>;
type Route = Settings['LEAD_ROUTES'][number];

/** What routing reads of a lead; a row of the leads table has it too. */
export type RoutedLead = Pick<Lead, 'offer' | 'offerId' | 'offerTitle' | 'action' | 'doNotContact' | 'isTest'>;

function same(a: string, b: string): boolean {
    return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** A route's offer matches the offer id (`publisher.offer`), the bare offer id, or the offer title. */
function routeMatches(route: Route, lead: RoutedLead): boolean {
    const offers = [lead.offer, lead.offerId, lead.offerTitle].filter(Boolean);
    const offerMatches = route.offer === undefined || offers.some((offer) => same(offer, route.offer ?? ''));
    const actionMatches = route.action === undefined || same(lead.action, route.action);
    return offerMatches && actionMatches;
}

/**
 * The destinations a lead goes to: the first matching route's, else LEAD_DESTINATIONS. A
 * do-not-contact lead goes to DNC_DESTINATIONS (the table, for the record) and nowhere else; a
 * test lead goes everywhere unless DELIVER_TEST_LEADS is false, when it goes to the table only.
 */
export function destinationsFor(lead: RoutedLead, settings: RoutingSettings): DestinationName[] {
    const route = settings.LEAD_ROUTES.find((candidate) => routeMatches(candidate, lead));
    // A DNC or held-back test lead is still kept, for the record, whatever the routes say.
    if (lead.doNotContact) return settings.DNC_DESTINATIONS;
    if (lead.isTest && !settings.DELIVER_TEST_LEADS) return ['table'];
    return route ? route.destinations : settings.LEAD_DESTINATIONS;
}

/**
 * Every destination routing can send a lead to with these settings: the destinations whose queue
 * trigger the app registers (src/config/registeredDestinations.ts reads the same from the
 * environment as the function files load, without the schema). A lead for any other destination
 * waits on its queue, with nothing draining it, until that destination is configured again.
 */
export function routedDestinations(settings: RoutingSettings): ReadonlySet<DestinationName> {
    const heldBack: DestinationName[] = settings.DELIVER_TEST_LEADS ? [] : ['table'];
    return new Set([...settings.LEAD_DESTINATIONS, ...settings.LEAD_ROUTES.flatMap((route) => route.destinations), ...settings.DNC_DESTINATIONS, ...heldBack]);
}
