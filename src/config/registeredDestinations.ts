import { destinationNames, type DestinationName } from './destinationNames';

type Environment = Record<string, string | undefined>;

/** A comma-separated list of destination names, as the settings schema reads it; undefined when a name is unknown. */
function namesIn(text: string | undefined, fallback: readonly DestinationName[]): readonly DestinationName[] | undefined {
    if (text === undefined || text.trim() === '') return fallback;
    const names = text
        .split(',')
        .map((name) => name.trim().toLowerCase())
        .filter(Boolean);
    const known = names.filter((name): name is DestinationName => (destinationNames as readonly string[]).includes(name));
    return known.length === names.length ? known : undefined;
}

/** Every destination some route of LEAD_ROUTES names; undefined when the setting cannot be read. */
function routeNames(text: string | undefined): readonly DestinationName[] | undefined {
    if (text === undefined || text.trim() === '') return [];
    let routes: unknown;
    try {
        routes = JSON.parse(text);
    } catch {
        return undefined;
    }
    if (!Array.isArray(routes)) return undefined;
    const found: DestinationName[] = [];
    for (const route of routes as unknown[]) {
        const listed = typeof route === 'object' && route !== null && 'destinations' in route ? route.destinations : undefined;
        if (!Array.isArray(listed) || !listed.every((name) => typeof name === 'string')) return undefined;
        const names = namesIn(listed.join(','), []);
        if (!names) return undefined;
        found.push(...names);
    }
    return found;
}

/**
 * The destinations whose queue trigger the app registers: those routing can send a lead to (see
 * destinationsFor), read from the environment without the settings schema, because the function
 * files call this as they load and must not pay for zod then. A queue with no trigger is not polled,
 * which is most of what an idle app costs.
 *
 * When a routing setting cannot be read (a typo, an unresolved Key Vault reference), every
 * destination is registered: intake still runs, and a lead routed once the setting is fixed is
 * never left on a queue that nothing drains.
 */
export function destinationsToRegister(env: Environment): readonly DestinationName[] {
    const everywhere = namesIn(env.LEAD_DESTINATIONS, ['table']);
    const routed = routeNames(env.LEAD_ROUTES);
    const doNotContact = namesIn(env.DNC_DESTINATIONS, ['table']);
    const testLeads = env.DELIVER_TEST_LEADS?.trim().toLowerCase() ?? '';
    // A test lead held back (DELIVER_TEST_LEADS false, or a value the schema will refuse) goes to the table.
    const heldBack: readonly DestinationName[] = ['', 'true', '1', 'yes'].includes(testLeads) ? [] : ['table'];
    if (!everywhere || !routed || !doNotContact) return destinationNames;
    const used = new Set<DestinationName>([...everywhere, ...routed, ...doNotContact, ...heldBack]);
    return destinationNames.filter((name) => used.has(name));
}
