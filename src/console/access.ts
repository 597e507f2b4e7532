import { z } from 'zod';

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

/** The claim types App Service uses for app roles and for groups. */
const roleClaimTypes = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
const groupClaimTypes = ['groups', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups'];

export type AccessDecision = { allowed: true; who: string } | { allowed: false; status: 401 | 403 | 404; reason: string };

export interface AccessPolicy {
    /** The app runs in Azure; elsewhere the console is open on localhost only, as `func start` serves every function there. */
    inAzure: boolean;
    /** The host name the request was sent to (its Host header). */
    host: string;
    /** App Service Authentication with Entra ID is on (signInEnabled): without it no header can be trusted. */
    authEnabled: boolean;
    /** App roles or group object ids, any one of which lets a person in. */
    allowed: readonly string[];
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

/** The roles and groups a principal holds, lower-cased for comparison. */
function membershipsOf(principal: ClientPrincipal): Set<string> {
    const roleTypes = new Set([...roleClaimTypes, principal.role_typ ?? ''].filter(Boolean));
    return new Set(principal.claims.filter((claim) => roleTypes.has(claim.typ) || groupClaimTypes.includes(claim.typ)).map((claim) => claim.val.trim().toLowerCase()));
}

type HeaderReader = (name: string) => string | null;

const loopbackHosts = ['localhost', '127.0.0.1', '[::1]', '::1'];

/**
 * Who may see the console. In Azure: nobody unless authentication is on and CONSOLE_ALLOWED names
 * a role or group (404, as if there were no console, so a missing setting never shows leads), and
 * then only a signed-in principal of the identity provider that signed them in, holding one of them.
 */
export function decideAccess(policy: AccessPolicy, header: HeaderReader): AccessDecision {
    // Outside Azure nobody signs anyone in: only a browser on this machine, asking for localhost by name, may see leads.
    // A request for any other host (from the network, or a page that rebound its own name to this machine) sees no console.
    if (!policy.inAzure)
        return loopbackHosts.includes(policy.host.toLowerCase())
            ? { allowed: true, who: 'local' }
            : { allowed: false, status: 404, reason: `Outside Azure the console answers only on localhost, and this request was for "${policy.host}".` };
    if (!policy.authEnabled) return { allowed: false, status: 404, reason: 'App Service Authentication with Entra ID is not on for this app (WEBSITE_AUTH_ENABLED=True and CONSOLE_SIGN_IN=entra), so the console is off.' };
    if (policy.allowed.length === 0) return { allowed: false, status: 404, reason: 'CONSOLE_ALLOWED names no role or group, so the console is off.' };
    const raw = header('x-ms-client-principal');
    if (!raw) return { allowed: false, status: 401, reason: 'Sign in to see the console.' };
    const read = parsePrincipal(raw);
    if ('reason' in read) return { allowed: false, status: 401, reason: read.reason };
    const idp = header('x-ms-client-principal-idp');
    if (idp && idp.toLowerCase() !== read.principal.auth_typ.toLowerCase()) {
        return { allowed: false, status: 401, reason: `The x-ms-client-principal header names the provider "${read.principal.auth_typ}", but x-ms-client-principal-idp says "${idp}".` };
    }
    const held = membershipsOf(read.principal);
    if (!policy.allowed.some((name) => held.has(name.trim().toLowerCase()))) {
        return { allowed: false, status: 403, reason: 'You are signed in, but hold none of the roles or groups that CONSOLE_ALLOWED names.' };
    }
    return { allowed: true, who: header('x-ms-client-principal-id') ?? 'signed in' };
}
