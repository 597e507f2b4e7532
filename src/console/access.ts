import { z } from 'zod';
import { notFromThisMachine, type ConnectionPeer } from '../runtime/connectionPeer';

/**
 * What App Service Authentication puts in `x-ms-client-principal`: base64 of this JSON. The
 * platform strips the header from requests that come from outside, so it is present only when
 * App Service signed someone in; anything else in it is refused.
 */
const principalSchema = z.object({
    auth_typ: z.string().min(1),
    claims: z.array(z.object({ typ: z.string(), val: z.string() })),
    name_typ: z.string().optional(),
    role_typ: z.string().optional(),
});

export type ClientPrincipal = z.infer<typeof principalSchema>;

/**
 * The claim types App Service Authentication gives Entra ID's app roles and groups: fixed here, so
 * that a principal cannot choose which of its claims count as roles (its role_typ is not read).
 */
const roleClaimTypes = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
const groupClaimTypes = ['groups', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups'];

/** The one identity provider the console accepts: Entra ID, which the Bicep configures. */
const entraProvider = 'aad';

export type AccessDecision = { allowed: true; who: string } | { allowed: false; status: 401 | 403 | 404; reason: string };

export interface AccessPolicy {
    /** The app runs in Azure; elsewhere the console is open on localhost only, as `func start` serves every function there. */
    inAzure: boolean;
    /** The host name the request was sent to (its Host header). */
    host: string;
    /** Who opened the connection, as the local host saw it; undefined where the host does not say (Azure, Core Tools). */
    peer: ConnectionPeer | undefined;
    /** App Service Authentication with Entra ID is on (signInEnabled): without it no header can be trusted. */
    authEnabled: boolean;
    /** App role values, any one of which lets a person in. */
    roles: readonly string[];
    /** Group object ids, membership of any one of which lets a person in. */
    groups: readonly string[];
}

/** The principal in the header, or a reason it cannot be read. */
export function parsePrincipal(header: string): { principal: ClientPrincipal } | { reason: string } {
    if (!/^[A-Za-z0-9+/=_-]+$/.test(header.trim())) return { reason: 'The x-ms-client-principal header is not base64.' };
    let json: unknown;
    try {
        json = JSON.parse(Buffer.from(header.trim(), 'base64').toString('utf8'));
    } catch {
        return { reason: 'The x-ms-client-principal header does not hold JSON.' };
    }
    const parsed = principalSchema.safeParse(json);
    return parsed.success ? { principal: parsed.data } : { reason: 'The x-ms-client-principal header is not a client principal (auth_typ and claims are required).' };
}

/** The values of a principal's claims of the given types, lower-cased for comparison. */
function claimValues(principal: ClientPrincipal, types: readonly string[]): Set<string> {
    return new Set(principal.claims.filter((claim) => types.includes(claim.typ)).map((claim) => claim.val.trim().toLowerCase()));
}

export type HeaderReader = (name: string) => string | null;

/** Whether the signed-in person (a principal decideAccess let in) holds the app role, as a role claim. */
export function holdsAppRole(header: HeaderReader, role: string): boolean {
    const read = parsePrincipal(header('x-ms-client-principal') ?? '');
    return 'principal' in read && claimValues(read.principal, roleClaimTypes).has(role.trim().toLowerCase());
}

/**
 * Who may see the console. In Azure: nobody unless authentication is on and CONSOLE_ALLOWED_ROLES or
 * CONSOLE_ALLOWED_GROUPS names one (404, as if there were no console, so a missing setting never
 * shows leads), and then only a person signed in with Entra ID who holds one of those app roles (as
 * a role claim) or is in one of those groups (as a group claim): a group named like a role is no role.
 */
export function decideAccess(policy: AccessPolicy, header: HeaderReader): AccessDecision {
    // A request the local host served must come from a person on this machine, whatever the settings
    // say (settings that look like Azure's must not let the network in with a header of its own making).
    // Outside Azure that is all it takes: nobody signs anyone in. Who connected is the socket's word.
    if (!policy.inAzure || policy.peer !== undefined) {
        const why = notFromThisMachine(policy.peer, policy.host, header);
        if (why !== undefined) return { allowed: false, status: 404, reason: `Outside Azure the console answers only a person on this machine, and ${why}.` };
        if (!policy.inAzure) return { allowed: true, who: 'local' };
    }
    if (!policy.authEnabled)
        return { allowed: false, status: 404, reason: 'App Service Authentication with Entra ID is not on for this app (WEBSITE_AUTH_ENABLED=True and CONSOLE_SIGN_IN=entra), so the console is off.' };
    if (policy.roles.length === 0 && policy.groups.length === 0) return { allowed: false, status: 404, reason: 'CONSOLE_ALLOWED_ROLES and CONSOLE_ALLOWED_GROUPS name no role or group, so the console is off.' };
    const raw = header('x-ms-client-principal');
    if (!raw) return { allowed: false, status: 401, reason: 'Sign in to see the console.' };
    const read = parsePrincipal(raw);
    if ('reason' in read) return { allowed: false, status: 401, reason: read.reason };
    const idp = header('x-ms-client-principal-idp');
    if (read.principal.auth_typ.toLowerCase() !== entraProvider || (idp !== null && idp.toLowerCase() !== entraProvider)) {
        const provider = read.principal.auth_typ.toLowerCase() !== entraProvider ? read.principal.auth_typ : (idp ?? '');
        return { allowed: false, status: 401, reason: `Only a sign-in with Entra ID opens the console, and this one is by ${JSON.stringify(provider)}.` };
    }
    const roles = claimValues(read.principal, roleClaimTypes);
    const groups = claimValues(read.principal, groupClaimTypes);
    if (!policy.roles.some((role) => roles.has(role.toLowerCase())) && !policy.groups.some((group) => groups.has(group.toLowerCase()))) {
        return { allowed: false, status: 403, reason: 'You are signed in, but hold none of the app roles in CONSOLE_ALLOWED_ROLES and are in none of the groups in CONSOLE_ALLOWED_GROUPS.' };
    }
    return { allowed: true, who: header('x-ms-client-principal-id') ?? 'signed in' };
}
