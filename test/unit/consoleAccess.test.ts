import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideAccess, parsePrincipal, type AccessPolicy } from '../../src/console/access';
import { fullExportTaker } from '../../src/console/fullExport';

const azure: AccessPolicy = { inAzure: true, host: 'func-contoso.azurewebsites.net', peer: undefined, authEnabled: true, roles: ['Leads.Read'], groups: ['7f4c1a9e-2b1d-4c8e-9a55-0d3e6f1b2c3d'] };
const roleType = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';

function principal(claims: { typ: string; val: string }[], extra: Record<string, unknown> = {}): string {
    return Buffer.from(JSON.stringify({ auth_typ: 'aad', claims, name_typ: 'name', role_typ: roleType, ...extra })).toString('base64');
}

function headers(values: Record<string, string>): (name: string) => string | null {
    return (name) => values[name] ?? null;
}

describe('who may open the console', () => {
    it('is open on a developer machine only to a connection from the machine itself, asking for localhost', () => {
        for (const host of ['localhost', '127.0.0.1', '[::1]', 'LOCALHOST'])
            assert.deepEqual(decideAccess({ ...azure, host, peer: 'loopback', inAzure: false, authEnabled: false, roles: [], groups: [] }, headers({})), { allowed: true, who: 'local' }, host);
        // Relayed by a proxy or tunnel on this machine: the connection is local, the person is not.
        for (const relay of ['x-forwarded-for', 'forwarded', 'via', 'x-real-ip']) {
            const decision = decideAccess({ ...azure, host: 'localhost', peer: 'loopback', inAzure: false, authEnabled: false, roles: [], groups: [] }, headers({ [relay]: '203.0.113.7' }));
            assert.equal((decision as { status: number }).status, 404, relay);
        }
        // Settings that look like Azure's on the local host: a connection from the network is still refused, signed-in header or not.
        const lookalike = decideAccess({ ...azure, peer: 'network' }, headers({ 'x-ms-client-principal': principal([{ typ: 'roles', val: 'Leads.Read' }]), 'x-ms-client-principal-idp': 'aad' }));
        assert.equal((lookalike as { status: number }).status, 404);
        // A connection from the network, or from a host that does not say who connected (func start), sees no console whatever its Host header says.
        for (const peer of ['network', undefined] as const) {
            const decision = decideAccess({ ...azure, host: 'localhost', peer, inAzure: false, authEnabled: false, roles: [], groups: [] }, headers({}));
            assert.equal((decision as { status: number }).status, 404, String(peer));
        }
        // The machine's address on the network, a rebound name, or a container behind an ingress: no console, signed-in header or not.
        for (const host of ['192.168.1.20', 'evil.example', 'leads.contoso.example']) {
            const decision = decideAccess(
                { ...azure, host, peer: 'loopback', inAzure: false, authEnabled: false, roles: ['Leads.Read'], groups: [] },
                headers({ 'x-ms-client-principal': principal([{ typ: 'roles', val: 'Leads.Read' }]) }),
            );
            assert.equal((decision as { status: number }).status, 404, host);
        }
    });

    it('answers 404 in Azure when App Service Authentication is off or CONSOLE_ALLOWED is empty, whatever the headers say', () => {
        const signedIn = headers({ 'x-ms-client-principal': principal([{ typ: roleType, val: 'Leads.Read' }]) });
        assert.equal(decideAccess({ ...azure, authEnabled: false }, signedIn).allowed, false);
        assert.deepEqual(decideAccess({ ...azure, authEnabled: false }, signedIn), {
            allowed: false,
            status: 404,
            reason: 'App Service Authentication with Entra ID is not on for this app (WEBSITE_AUTH_ENABLED=True and CONSOLE_SIGN_IN=entra), so the console is off.',
        });
        assert.equal((decideAccess({ ...azure, roles: [], groups: [] }, signedIn) as { status: number }).status, 404);
    });

    it('asks for a sign-in without the header', () => {
        assert.equal((decideAccess(azure, headers({})) as { status: number }).status, 401);
    });

    it('lets in a principal holding an allowed app role (as the platform\'s role claim or "roles") or in an allowed group, ignoring case', () => {
        for (const claims of [[{ typ: roleType, val: 'leads.read' }], [{ typ: 'roles', val: 'Leads.Read' }], [{ typ: 'groups', val: '7F4C1A9E-2B1D-4C8E-9A55-0D3E6F1B2C3D' }]]) {
            assert.equal(decideAccess(azure, headers({ 'x-ms-client-principal': principal(claims), 'x-ms-client-principal-idp': 'aad' })).allowed, true, JSON.stringify(claims));
        }
    });

    it("refuses a principal with none of them: another role, a role named in another claim, a group named like a role, a role claim of the principal's own choosing, a role as a group id", () => {
        const refused: [{ typ: string; val: string }[], Record<string, unknown>][] = [
            [[{ typ: roleType, val: 'Leads.Write' }], {}],
            [[{ typ: 'name', val: 'Leads.Read' }], {}],
            [[{ typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', val: 'Leads.Read' }], {}],
            // A group of that name (a tenant that emits group names): groups count only by their ids in CONSOLE_ALLOWED_GROUPS.
            [[{ typ: 'groups', val: 'Leads.Read' }], {}],
            // The principal says its "department" claims are roles: the claim types are the platform's, not the principal's.
            [[{ typ: 'department', val: 'Leads.Read' }], { role_typ: 'department' }],
            [[{ typ: 'roles', val: '7f4c1a9e-2b1d-4c8e-9a55-0d3e6f1b2c3d' }], {}],
            [[], {}],
        ];
        for (const [claims, extra] of refused) {
            const decision = decideAccess(azure, headers({ 'x-ms-client-principal': principal(claims, extra) }));
            assert.deepEqual(
                decision,
                { allowed: false, status: 403, reason: 'You are signed in, but hold none of the app roles in CONSOLE_ALLOWED_ROLES and are in none of the groups in CONSOLE_ALLOWED_GROUPS.' },
                JSON.stringify(claims),
            );
        }
    });

    it('accepts only a sign-in with Entra ID, whichever of the two headers names another provider', () => {
        const withRole = [{ typ: 'roles', val: 'Leads.Read' }];
        const cases: Record<string, string>[] = [
            { 'x-ms-client-principal': principal(withRole, { auth_typ: 'github' }) },
            { 'x-ms-client-principal': principal(withRole, { auth_typ: 'github' }), 'x-ms-client-principal-idp': 'github' },
            { 'x-ms-client-principal': principal(withRole), 'x-ms-client-principal-idp': 'github' },
        ];
        for (const values of cases) {
            assert.deepEqual(decideAccess(azure, headers(values)), { allowed: false, status: 401, reason: 'Only a sign-in with Entra ID opens the console, and this one is by "github".' });
        }
    });

    it('refuses forged and malformed headers: not base64, not JSON, not a principal, another provider', () => {
        const cases: [string, Record<string, string>, RegExp][] = [
            ['not base64', { 'x-ms-client-principal': '{"auth_typ":"aad"}' }, /not base64/],
            ['not JSON', { 'x-ms-client-principal': Buffer.from('Leads.Read').toString('base64') }, /does not hold JSON/],
            ['an array', { 'x-ms-client-principal': Buffer.from('[]').toString('base64') }, /not a client principal/],
            ['no provider', { 'x-ms-client-principal': Buffer.from(JSON.stringify({ claims: [{ typ: 'roles', val: 'Leads.Read' }] })).toString('base64') }, /not a client principal/],
            ['claims of numbers', { 'x-ms-client-principal': Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'roles', val: 1 }] })).toString('base64') }, /not a client principal/],
            [
                'the wrong provider',
                { 'x-ms-client-principal': principal([{ typ: 'roles', val: 'Leads.Read' }]), 'x-ms-client-principal-idp': 'github' },
                /Only a sign-in with Entra ID opens the console, and this one is by "github"/,
            ],
        ];
        for (const [what, values, reason] of cases) {
            const decision = decideAccess(azure, headers(values));
            assert.equal(decision.allowed, false, what);
            assert.equal((decision as { status: number }).status, 401, what);
            assert.match((decision as { reason: string }).reason, reason, what);
        }
    });

    it('reads a principal as App Service writes it', () => {
        const read = parsePrincipal(principal([{ typ: 'roles', val: 'Leads.Read' }]));
        assert.ok('principal' in read);
        assert.equal(read.principal.auth_typ, 'aad');
    });
});

describe('who may take the export with contact details', () => {
    const signedIn = (claims: { typ: string; val: string }[]) => headers({ 'x-ms-client-principal': principal(claims), 'x-ms-client-principal-idp': 'aad', 'x-ms-client-principal-name': 'ops@contoso.example' });

    it('lets the person at the machine take it outside Azure, as the rest of the console', () => {
        assert.deepEqual(fullExportTaker({ inAzure: false, CONSOLE_EXPORT_ROLE: undefined }, headers({})), { allowed: true, who: 'the local operator' });
    });

    it('in Azure, lets only a holder of the app role CONSOLE_EXPORT_ROLE names take it, known by the name App Service gives', () => {
        const settings = { inAzure: true, CONSOLE_EXPORT_ROLE: 'Leads.Export' };
        assert.deepEqual(fullExportTaker(settings, signedIn([{ typ: roleType, val: 'leads.export' }])), { allowed: true, who: 'ops@contoso.example' });
        assert.deepEqual(fullExportTaker(settings, signedIn([{ typ: 'roles', val: 'Leads.Export' }])), { allowed: true, who: 'ops@contoso.example' });
        const refused: [string, { typ: string; val: string }[]][] = [
            ['only the console role', [{ typ: 'roles', val: 'Leads.Read' }]],
            ['a group named like the role', [{ typ: 'groups', val: 'Leads.Export' }]],
            ['a claim of its own choosing', [{ typ: 'custom', val: 'Leads.Export' }]],
        ];
        for (const [what, claims] of refused) {
            const taker = fullExportTaker(settings, signedIn(claims));
            assert.equal(taker.allowed, false, what);
            assert.match((taker as { reason: string }).reason, /for holders of the app role "Leads\.Export" \(CONSOLE_EXPORT_ROLE\), which you do not hold/, what);
        }
    });

    it('lets nobody take it in Azure while CONSOLE_EXPORT_ROLE is unset, whatever the principal holds', () => {
        const taker = fullExportTaker({ inAzure: true, CONSOLE_EXPORT_ROLE: undefined }, signedIn([{ typ: 'roles', val: 'Leads.Export' }]));
        assert.deepEqual(taker, { allowed: false, reason: 'CONSOLE_EXPORT_ROLE names no app role, so nobody may take the export with contact details; Export CSV gives the list as NOTIFY_PII shows it.' });
    });
});
