import type { HttpFunctionDefinition } from '../runtime/define';

export interface Route {
    definition: HttpFunctionDefinition;
    methods: readonly string[];
    pattern: RegExp;
    template: string;
    /** The template without a trailing catch-all segment (`/api/console` for `/api/console/{*path}`): a URL that answers. */
    home: string;
}

function escapeRegExp(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One route template segment: literal text, `{name}`, `{name?}`, `{*rest}`, or `{name:constraint}`. */
function segmentPattern(segment: string): string {
    const parameter = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]*)?(\?)?\}$/.exec(segment);
    if (!parameter) return `/${escapeRegExp(segment)}`;
    const [, catchAll, name, optional] = parameter;
    if (catchAll) return `(?:/(?<${name}>.*))?`;
    return optional ? `(?:/(?<${name}>[^/]+))?` : `/(?<${name}>[^/]+)`;
}

/** Builds the route of an HTTP function as the Functions host does: `/{routePrefix}/{route or name}`. */
export function routeOf(definition: HttpFunctionDefinition, routePrefix: string): Route {
    const route = (definition.options.route ?? definition.name).replace(/^\/+|\/+$/g, '');
    const template = [routePrefix, route].filter(Boolean).join('/');
    const pattern = new RegExp(`^${template.split('/').map(segmentPattern).join('')}/?$`, 'i');
    const methods = (definition.options.methods ?? ['GET', 'POST']).map((m) => m.toUpperCase());
    // A catch-all matches nothing too, so the route's own address is the template without it.
    const home = `/${template}`.replace(/\/\{\*[^}]*\}$/, '');
    return { definition, methods, pattern, template: `/${template}`, home };
}

/** A URL path segment decoded; malformed escapes are kept as they came. */
export function decodeSegment(text: string): string {
    try {
        return decodeURIComponent(text);
    } catch {
        return text;
    }
}

export interface RouteMatch {
    route: Route;
    params: Record<string, string>;
}

/** The route for a path and method; a path that matches with another method is not found, as in Azure. */
export function matchRoute(routes: readonly Route[], path: string, method: string): RouteMatch | undefined {
    for (const route of routes) {
        const match = route.pattern.exec(path);
        if (!match || !route.methods.includes(method.toUpperCase())) continue;
        const params = Object.fromEntries(Object.entries<string | undefined>(match.groups ?? {}).flatMap(([k, v]) => (v === undefined ? [] : [[k, decodeSegment(v)]])));
        return { route, params };
    }
    return undefined;
}
