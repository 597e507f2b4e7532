import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { bicepOrSkip, runBicep } from '../helpers/bicep';
import { projectRoot } from '../helpers/samples';

const read = (path: string) => readFileSync(join(projectRoot, path), 'utf8');

interface TemplateParameter {
    type: string;
    defaultValue?: unknown;
}

interface ParameterFile {
    parameters: Record<string, { value?: unknown }>;
}

/** The JSON type a value of an ARM parameter type must have. */
function jsonTypeOf(armType: string): string {
    const type = armType.toLowerCase();
    if (type === 'int') return 'number';
    if (type === 'bool') return 'boolean';
    if (type === 'object' || type === 'secureobject') return 'object';
    if (type === 'array') return 'array';
    return 'string';
}

function jsonType(value: unknown): string {
    return Array.isArray(value) ? 'array' : typeof value;
}

/** The environment azd itself always holds: its environment name, the region, and the signed-in principal azd adds. */
const azdBase = { AZURE_ENV_NAME: 'contoso-leads', AZURE_LOCATION: 'westeurope', AZURE_PRINCIPAL_ID: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' };

/** The settings a user may `azd env set`, by the name of the parameter each fills: read from main.bicepparam. */
const settingOf = new Map([...read('infra/main.bicepparam').matchAll(/^param (\w+) = [^\n]*readEnvironmentVariable\('([A-Z0-9_]+)'/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
/** Numbers and switches are read through a variable first, so that a blank value takes the default. */
for (const m of read('infra/main.bicepparam').matchAll(/^var (\w+) = readEnvironmentVariable\('([A-Z0-9_]+)'[^\n]*\nparam (\w+) = empty\(\1\)/gm)) settingOf.set(m[3] ?? '', m[2] ?? '');

/**
 * Values a user sets that azd's ${NAME} substitution in a JSON parameters file breaks (it pastes them
 * into JSON text unescaped): quotes, backslashes, line breaks, non-Latin text, JSON.
 */
const awkward: Record<string, string> = {
    LEAD_DESTINATIONS: 'table,webhook,dynamics',
    LEAD_ROUTES: '[{"offer":"contoso-crm","action":"Test drive","destinations":["dynamics"]},{"destinations":["table","webhook"]}]',
    DYNAMICS_FIELDS: '{"new_source":"=Azure Marketplace \\"Contoso\\"","description":"Description"}',
    SALESFORCE_FIELDS: '{"LeadSource":"=Marketplace","Company":"Company"}',
    HUBSPOT_FIELDS: '{"company":"Company"}',
    MARKETO_FIELDS: '{"company":"Company"}',
    SMTP_PASSWORD: 'p"a\\ss\nw\u00f6rd\\u0041 ${HOME} $$',
    SMTP_HOST: 'smtp.contoso.com',
    SMTP_PORT: '465',
    SMTP_SECURE: 'true',
    WEBHOOK_PING: 'true',
    ENABLE_EMAIL: 'false',
    NOTIFY_TO: '\u8425\u4e1a\u90e8 <sales@contoso.com>; "Ops, Night" <ops@contoso.com>',
    NOTIFY_FROM: '"Contoso Leads" <leads@contoso.com>',
    NOTIFY_SCHEDULE: '0 0 8 * * 1-5',
    WEBHOOK_SECRET: '\\\\server\\share "quoted"',
    ALERT_INTERVAL_MINUTES: '15',
    ALERT_FAILING_MINUTES: '10',
    EMAIL_DATA_LOCATION: 'Europe',
    CONSOLE_ALLOWED_ROLES: 'Leads.Read',
    CONSOLE_ALLOWED_GROUPS: '7f4c1a9e-2b1d-4c8e-9a55-0d3e6f1b2c3d',
};

describe('the infrastructure, through the real Bicep compiler', () => {
    const found = bicepOrSkip();
    const skip = 'skip' in found ? found.skip : false;
    const bicep = 'bicep' in found ? found.bicep : '';
    let declared: Record<string, TemplateParameter> = {};

    /** What azd does with main.bicepparam (BuildBicepParam): `bicep build-params --stdout` with the azd environment, then parametersJson. */
    function azdParameters(env: Record<string, string>): ParameterFile {
        const settings = new Set(settingOf.values());
        const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !settings.has(name)));
        const run = runBicep(bicep, ['build-params', 'infra/main.bicepparam', '--stdout'], { ...clean, ...env });
        assert.deepEqual(run.diagnostics, [], 'build-params says nothing');
        const output = JSON.parse(run.stdout) as { parametersJson: string };
        return JSON.parse(output.parametersJson) as ParameterFile;
    }

    before(() => {
        if (skip) return;
        const template = JSON.parse(runBicep(bicep, ['build', 'infra/main.bicep', '--stdout']).stdout) as { parameters: Record<string, TemplateParameter> };
        declared = template.parameters;
    });

    it('builds and lints infra/main.bicep and main.bicepparam without a warning', { skip }, () => {
        assert.deepEqual(runBicep(bicep, ['build', 'infra/main.bicep', '--stdout']).diagnostics, []);
        assert.deepEqual(runBicep(bicep, ['lint', 'infra/main.bicep']).diagnostics, []);
        assert.deepEqual(runBicep(bicep, ['lint', 'infra/main.bicepparam'], azdBase).diagnostics, []);
    });

    it('azd reads main.bicepparam (no main.parameters.json), which sets every parameter main.bicep declares', { skip }, () => {
        assert.equal(existsSync(join(projectRoot, 'infra', 'main.parameters.json')), false, 'azd would ignore it beside main.bicepparam');
        const file = azdParameters(azdBase);
        assert.deepEqual(Object.keys(file.parameters).sort(), Object.keys(declared).sort());
    });

    it("with nothing set, each parameter takes main.bicep's default", { skip }, () => {
        const file = azdParameters(azdBase);
        for (const [name, parameter] of Object.entries(declared)) {
            if (!('defaultValue' in parameter) || name === 'deployerPrincipalId') continue;
            assert.deepEqual(file.parameters[name]?.value, parameter.defaultValue, name);
        }
        const blank = azdParameters({ ...azdBase, SMTP_PORT: '', ENABLE_EMAIL: '', ALERT_INTERVAL_MINUTES: '' });
        assert.equal(blank.parameters.smtpPort?.value, 587, 'a number set blank takes the default');
        assert.equal(blank.parameters.enableEmail?.value, true);
    });

    it('hands Bicep every value exactly as it was set, JSON, quotes, backslashes, line breaks and all, each of its declared type', { skip }, () => {
        const file = azdParameters({ ...azdBase, ...awkward });
        for (const [name, parameter] of Object.entries(declared)) {
            const value = file.parameters[name]?.value;
            assert.equal(jsonType(value), jsonTypeOf(parameter.type), `${name} is a ${parameter.type}`);
            const setting = settingOf.get(name) ?? '';
            const given = awkward[setting] ?? (azdBase as Record<string, string>)[setting];
            if (given === undefined) continue;
            const expected = parameter.type === 'int' ? Number(given) : parameter.type === 'bool' ? given === 'true' : given;
            assert.deepEqual(value, expected, `${name} from ${setting}`);
        }
        assert.deepEqual(JSON.parse(String(file.parameters.leadRoutes?.value)), JSON.parse(awkward.LEAD_ROUTES ?? ''), 'LEAD_ROUTES is still JSON');
    });

    it('names the parameter when a number is not one', { skip }, () => {
        assert.throws(() => runBicep(bicep, ['build-params', 'infra/main.bicepparam', '--stdout'], { ...process.env, ...azdBase, SMTP_PORT: 'five-eight-seven' }), /Failed to evaluate parameter "smtpPort"/);
    });

    it('docs/DEPLOY.md names every setting azd reads', { skip }, () => {
        const readme = read('docs/DEPLOY.md');
        const missing = [...settingOf.values()].filter((setting) => !setting.startsWith('AZURE_') && !readme.includes(`\`${setting}\``));
        assert.deepEqual(missing, []);
    });
});
