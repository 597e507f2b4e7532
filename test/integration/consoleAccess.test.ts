import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { freePort, postLead, startApp, type RunningApp } from '../helpers/processes';
import { eventually } from '../helpers/queues';
import { documentedSample } from '../helpers/samples';

function principal(...roles: string[]): string {
    return Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: roles.map((val) => ({ typ: 'roles', val })), name_typ: 'name', role_typ: 'roles' })).toString('base64');
}

/*
 * The console as Azure would serve it: the app told it runs in Azure (WEBSITE_INSTANCE_ID), with
 * and without App Service Authentication (WEBSITE_AUTH_ENABLED, which the platform sets, and
 * CONSOLE_SIGN_IN=entra, which the Bicep writes with the sign-in it configures).
 */
describe('the console in Azure, behind App Service Authentication', () => {
    let azurite: Azurite;
    const apps: RunningApp[] = [];
    let signedIn: RunningApp;
    let noAuth: RunningApp;
    let flex: RunningApp;
    let flexNoPlatformWord: RunningApp;
    let handSetAuth: RunningApp;

    before(async () => {
        azurite = await startAzurite();
        const env = { AzureWebJobsStorage: azurite.connectionString, WEBSITE_INSTANCE_ID: 'test-instance', EMAIL_TRANSPORT: 'smtp', SMTP_HOST: 'localhost', CONSOLE_ALLOWED_ROLES: 'Leads.Read' };
        signedIn = await startApp({ env: { ...env, WEBSITE_AUTH_ENABLED: 'True', CONSOLE_SIGN_IN: 'entra', CONSOLE_EXPORT_ROLE: 'Leads.Export' }, port: await freePort() });
        apps.push(signedIn);
        noAuth = await startApp({ env, port: await freePort() });
        apps.push(noAuth);
        // Flex Consumption as the Bicep configures it with sign-in: WEBSITE_SKU, CONSOLE_SIGN_IN, and the
        // WEBSITE_AUTH_ENABLED the host sets from the site's auth settings; once without the platform's word.
        const flexEnv = { ...env, WEBSITE_INSTANCE_ID: '', WEBSITE_SKU: 'FlexConsumption', CONSOLE_SIGN_IN: 'entra' };
        flex = await startApp({ env: { ...flexEnv, WEBSITE_AUTH_ENABLED: 'True' }, port: await freePort() });
        apps.push(flex);
        flexNoPlatformWord = await startApp({ env: flexEnv, port: await freePort() });
        apps.push(flexNoPlatformWord);
        // Authentication turned on by hand (portal, or an app setting), not the sign-in this deployment configured.
        handSetAuth = await startApp({ env: { ...env, WEBSITE_AUTH_ENABLED: 'True' }, port: await freePort() });
        apps.push(handSetAuth);
    });

    after(async () => {
        for (const app of apps) await app.stop();
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning it
        await azurite?.stop();
    });

    it('answers 404 for every console path when authentication is not on, while leads still come in', async () => {
        for (const path of ['/api/console', '/api/console/leads', '/api/console/assets/console.js', '/api/console/export.csv', '/api/console/export-full.csv']) {
            const response = await fetch(`${noAuth.url}${path}`, { headers: { 'x-ms-client-principal': principal('Leads.Read') } });
            assert.equal(response.status, 404, path);
            assert.doesNotMatch(await response.text(), /lead|sign|auth/i, 'says nothing about why');
        }
        assert.match(await postLead(noAuth.url, documentedSample()), /^[0-9a-f]{32}$/);
    });

    it('opens on Flex Consumption behind the sign-in the deployment configured, and stays shut unless both the platform and the deployment say it is on', async () => {
        const headers = { 'x-ms-client-principal': principal('Leads.Read'), 'x-ms-client-principal-idp': 'aad' };
        assert.equal((await fetch(`${flex.url}/api/console/leads`, { headers })).status, 200);
        assert.equal((await fetch(`${flex.url}/api/console/leads`)).status, 401);
        assert.equal((await fetch(`${flexNoPlatformWord.url}/api/console/leads`, { headers })).status, 404);
        assert.equal((await fetch(`${handSetAuth.url}/api/console/leads`, { headers })).status, 404);
    });

    it('sends a person who is not signed in to the sign-in page, and answers 401 to the JSON endpoints', async () => {
        const page = await fetch(`${signedIn.url}/api/console/view/0123456789abcdef0123456789abcdef`, { redirect: 'manual' });
        assert.equal(page.status, 302);
        assert.equal(page.headers.get('location'), '/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fconsole%2Fview%2F0123456789abcdef0123456789abcdef');
        const api = await fetch(`${signedIn.url}/api/console/leads`);
        assert.equal(api.status, 401);
        assert.deepEqual(await api.json(), { error: 'Sign in to see the console.' });
    });

    it('refuses a forged or malformed principal, and a person without the role; lets in one with it', async () => {
        const forged = await fetch(`${signedIn.url}/api/console/leads`, { headers: { 'x-ms-client-principal': 'eyJhdXRoX3R5cCI6ImFhZCJ9!' } });
        assert.equal(forged.status, 401);
        assert.match(((await forged.json()) as { error: string }).error, /not base64/);
        const wrongProvider = await fetch(`${signedIn.url}/api/console/leads`, { headers: { 'x-ms-client-principal': principal('Leads.Read'), 'x-ms-client-principal-idp': 'facebook' } });
        assert.equal(wrongProvider.status, 401);
        const other = await fetch(`${signedIn.url}/api/console/leads`, { headers: { 'x-ms-client-principal': principal('Sales') } });
        assert.equal(other.status, 403);
        const allowed = await fetch(`${signedIn.url}/api/console/leads`, { headers: { 'x-ms-client-principal': principal('Leads.Read'), 'x-ms-client-principal-idp': 'aad' } });
        assert.equal(allowed.status, 200);
        assert.ok(Array.isArray(((await allowed.json()) as { items: unknown }).items));
    });

    it('gives the export with contact details only to a holder of the role in CONSOLE_EXPORT_ROLE, and logs who took it', async () => {
        const reader = { 'x-ms-client-principal': principal('Leads.Read'), 'x-ms-client-principal-idp': 'aad', 'x-ms-client-principal-name': 'reader@contoso.example' };
        const refused = await fetch(`${signedIn.url}/api/console/export-full.csv`, { headers: reader });
        assert.equal(refused.status, 403);
        assert.deepEqual(await refused.json(), { error: 'The export with contact details is for holders of the app role "Leads.Export" (CONSOLE_EXPORT_ROLE), which you do not hold.' });
        assert.doesNotMatch(await (await fetch(`${signedIn.url}/api/console`, { headers: reader })).text(), /export-full/, 'no link for a person who may not take it');

        const exporter = { ...reader, 'x-ms-client-principal': principal('Leads.Read', 'Leads.Export'), 'x-ms-client-principal-name': 'ops@contoso.example' };
        assert.match(await (await fetch(`${signedIn.url}/api/console`, { headers: exporter })).text(), /href="\/api\/console\/export-full\.csv"[^>]*>Export CSV with contact details</);
        const taken = await fetch(`${signedIn.url}/api/console/export-full.csv?offer=analytics`, { headers: exporter });
        assert.equal(taken.status, 200);
        assert.match(taken.headers.get('content-disposition') ?? '', /filename="leads-full-/);
        assert.match(
            await taken.text(),
            /^LeadId,CreatedTime,LastSeenAt,Occurrences,LeadSource,Source,ActionCode,Offer,OfferDisplayName,FirstName,LastName,Email,Phone,Country,Company,Title,Description,IsTest,DoNotContact\r\n/,
        );
        const logged = /The export with contact details of the leads of \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2} \(filtered\) was taken by "ops@contoso\.example"\./;
        await eventually(() => (logged.test(signedIn.output()) ? true : undefined), 10_000, 'the log line naming who took the export');
    });

    it('refuses a POST from another site even for a signed-in person', async () => {
        const response = await fetch(`${signedIn.url}/api/console/replay`, {
            method: 'POST',
            headers: { 'x-ms-client-principal': principal('Leads.Read'), origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
            body: 'all=true',
        });
        assert.equal(response.status, 403);
        assert.deepEqual(await response.json(), { error: 'The request came from another origin.' });
    });

    it('answers a bad filter with a 400 naming it, never a 500', async () => {
        const headers = { 'x-ms-client-principal': principal('Leads.Read') };
        const cases: [string, RegExp][] = [
            ['from=yesterday', /from is "yesterday": expected a day as YYYY-MM-DD/],
            ['state=lost', /state is "lost": use one of delivered/],
            ['colour=red', /there is no filter "colour"/],
            ['before=x', /before is "x": expected a position from a previous page/],
            ['before=2026-99-99T99:99:99.999Z_00000000000000000000000000000000', /before is .*: expected a position from a previous page/],
            ['to=2026-02-31', /to is "2026-02-31": expected a day of the calendar/],
            ['to=9999-12-31', /to is "9999-12-31": expected a day as YYYY-MM-DD, from 1900 to 2099/],
            ['from=2026-12-01&to=2026-01-01', /from \(2026-12-01\) is after to \(2026-01-01\)/],
        ];
        for (const [query, message] of cases) {
            const response = await fetch(`${signedIn.url}/api/console/leads?${query}`, { headers });
            assert.equal(response.status, 400, query);
            assert.match(((await response.json()) as { error: string }).error, message, query);
        }
        const replay = await fetch(`${signedIn.url}/api/console/replay`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"leadIds":["nope"]}' });
        assert.equal(replay.status, 400);
        assert.match(((await replay.json()) as { error: string }).error, /"nope" is not a lead id/);
    });
});
