import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { before, describe, it } from 'node:test';
import { settingsSchema } from '../../src/config/settings';
import { expandGlob } from '../../src/host/glob';
import { readHostConfig } from '../../src/host/hostConfig';
import { appEntryFiles, loadFunctions } from '../../src/host/loadApp';
import { ignoreRule, packagedFiles, stage, stageFolder } from '../../src/scripts/package';
import { coreToolsIgnores } from '../helpers/coreToolsIgnore';
import { buildRoot, projectRoot } from '../helpers/samples';
import { appFunctionNames } from '../helpers/functions';

const read = (path: string) => readFileSync(join(projectRoot, path), 'utf8');
const settingNames = Object.keys(settingsSchema.shape);
const bicep = read('infra/app/api.bicep');
/** Settings given a value in the Bicep app settings. */
const bicepSettings = new Set([...bicep.matchAll(/^\s+([A-Za-z][A-Za-z0-9_]*):/gm)].map((m) => m[1] ?? ''));
/** Settings the Bicep marks as optional, not set in Azure (the comment above the app settings). */
const bicepOptional = new Set(
    bicep
        .split('\n')
        .filter((line) => line.trim().startsWith('//'))
        .join(' ')
        .match(/[A-Z][A-Za-z0-9]*_[A-Za-z0-9_]+|AzureWebJobsStorage(?:__\w+)?/g) ?? [],
);
const sample = JSON.parse(read('local.settings.sample.json')) as { Values: Record<string, string> };

describe('the deployment pieces agree', () => {
    it('every setting the config schema reads is in local.settings.sample.json (but the Azure-only identity ones)', () => {
        const azureOnly = settingNames.filter((name) => name.startsWith('AzureWebJobsStorage__'));
        const missing = settingNames.filter((name) => !(name in sample.Values) && !azureOnly.includes(name));
        assert.deepEqual(missing, []);
        assert.deepEqual(
            azureOnly.filter((name) => !bicepSettings.has(name) && !bicepOptional.has(name)),
            [],
            "the identity settings are Azure's",
        );
    });

    it('every setting is in the Bicep app settings, or marked there as not set in Azure', () => {
        const missing = settingNames.filter((name) => !bicepSettings.has(name) && !bicepOptional.has(name));
        assert.deepEqual(missing, []);
        assert.deepEqual(
            [...bicepSettings].filter((name) => bicepOptional.has(name)),
            [],
            'a setting is either set or marked optional, not both',
        );
    });

    it('uses identity-based storage settings in Azure, with shared keys off and the three storage roles by id', () => {
        for (const suffix of ['credential', 'clientId', 'blobServiceUri', 'queueServiceUri', 'tableServiceUri']) assert.ok(bicepSettings.has(`AzureWebJobsStorage__${suffix}`), suffix);
        const storage = read('infra/app/storage.bicep');
        assert.match(storage, /allowSharedKeyAccess: false/);
        assert.match(storage, /minimumTlsVersion: 'TLS1_2'/);
        assert.match(storage, /allowBlobPublicAccess: false/);
        assert.match(storage, /b7e6dc6d-f1e8-4753-8033-0f276bb0955b/, 'Storage Blob Data Owner');
        assert.match(storage, /974c5e8b-45b9-4653-ba55-5f855dd0fb88/, 'Storage Queue Data Contributor');
        assert.match(storage, /0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3/, 'Storage Table Data Contributor');
        assert.match(storage, /'leads-poison'/);
        assert.match(read('infra/app/monitoring.bicep'), /3913510d-42f4-4e42-8a64-420c390055eb/, 'Monitoring Metrics Publisher');
        assert.match(bicep, /runtime: \{ name: 'node', version: '22' \}/);
        assert.match(bicep, /tier: 'FlexConsumption'/);
    });

    it('azd fills every Bicep parameter from `azd env set NAME value`, and every secret goes through Key Vault', () => {
        const main = read('infra/main.bicep');
        const parameters = read('infra/main.parameters.json');
        const params = [...main.matchAll(/^param (\w+) /gm)].map((m) => m[1] ?? '');
        const missing = params.filter((name) => !new RegExp(`"${name}": \\{ "value": "?\\$\\{[A-Z_]+(=[^}]*)?\\}"? \\}`).test(parameters));
        assert.deepEqual(missing, []);
        const secure = [...main.matchAll(/@secure\(\)\n(?:@description\([^\n]*\)\n)?param (\w+) /g)].map((m) => m[1] ?? '');
        assert.deepEqual(secure.sort(), [
            'consoleClientSecret',
            'dynamicsClientSecret',
            'hubspotToken',
            'marketoClientSecret',
            'notifySourceConnection',
            'salesforceClientSecret',
            'slackWebhookUrl',
            'smtpPassword',
            'teamsWebhookUrl',
            'webhookSecret',
        ]);
        for (const name of secure) assert.match(main, new RegExp(`'[a-z-]+': ${name}\\n`), `${name} is stored in Key Vault`);
        for (const setting of [
            'WEBHOOK_SECRET',
            'DYNAMICS_CLIENT_SECRET',
            'MARKETO_CLIENT_SECRET',
            'HUBSPOT_TOKEN',
            'SMTP_PASSWORD',
            'NOTIFY_SOURCE_CONNECTION',
            'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET',
            'SALESFORCE_CLIENT_SECRET',
            'TEAMS_WEBHOOK_URL',
            'SLACK_WEBHOOK_URL',
        ]) {
            assert.match(bicep, new RegExp(`${setting}: secretSetting\\(`), `${setting} is a Key Vault reference`);
        }
        assert.doesNotMatch(bicep, /EMAIL_TRANSPORT: [^\n]*'outbox'/, 'the outbox cannot work in Azure');
        assert.match(main, /@allowed\(\[\n {2}'australiaeast'/, 'location is held to the Flex Consumption regions');
        assert.match(read('infra/app/email.bicep'), /communicationServices@2025-09-01[^]*disableLocalAuth: true/);
    });

    it('turns on App Service Authentication for the console in the mode that still lets the marketplace post leads', () => {
        const auth = /resource auth 'Microsoft\.Web\/sites\/config@[^']+' = if \(!empty\(consoleClientId\)\) \{[^]*?\n\}/.exec(bicep)?.[0] ?? '';
        assert.match(auth, /name: 'authsettingsV2'/);
        assert.match(auth, /requireAuthentication: false, unauthenticatedClientAction: 'AllowAnonymous'/);
        assert.match(auth, /clientSecretSettingName: 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET'/);
        assert.match(auth, /openIdIssuer: '\$\{environment\(\)\.authentication\.loginEndpoint\}\$\{tenant\(\)\.tenantId\}\/v2\.0'/);
        assert.match(bicep, /CONSOLE_ALLOWED: consoleAllowed/);
    });

    it('package.json "main" matches the build output, and each file there defines functions', () => {
        const files = appEntryFiles(projectRoot, buildRoot);
        assert.ok(files.length >= 3);
        const names = loadFunctions(files)
            .map((f) => f.name)
            .sort();
        assert.deepEqual(names, appFunctionNames);
    });

    it('host.json is version 2.0 with the extension bundle and the queue settings the app relies on', () => {
        const hostJson = JSON.parse(read('host.json')) as { version: string; extensionBundle: { id: string; version: string } };
        assert.equal(hostJson.version, '2.0');
        assert.deepEqual(hostJson.extensionBundle, { id: 'Microsoft.Azure.Functions.ExtensionBundle', version: '[4.*, 5.0.0)' });
        const config = readHostConfig(projectRoot);
        assert.equal(config.queues.messageEncoding, 'base64');
        assert.ok(config.queues.maxDequeueCount >= 1);
        assert.ok(config.queues.maxPollingInterval <= 2000, 'leads are picked up within seconds');
    });

    it('.funcignore ships the compiled functions and leaves out sources, tests, maps and local data', () => {
        const files = packagedFiles(projectRoot);
        assert.ok(files.includes('dist/src/functions/receiveLead.js'));
        assert.ok(files.includes('host.json'));
        assert.ok(files.includes('package.json'));
        const leaked = files.filter((file) => /^(src|test|dist\/test|dist\/src\/host|infra|\.azurite|outbox)\/|\.ts$|\.map$|^local\.settings/.test(file));
        assert.deepEqual(leaked, []);
    });

    it('azure.yaml deploys the app as the "api" function service', () => {
        const yaml = read('azure.yaml');
        assert.match(yaml, /services:\s*\n\s+api:\s*\n(\s+\w+: .*\n)*/);
        assert.match(yaml, /host: function/);
        assert.match(yaml, /language: ts/);
        assert.match(read('infra/app/api.bicep'), /resource app 'Microsoft\.Web\/sites/);
        assert.match(read('infra/main.bicep'), /'azd-service-name': 'api'/);
    });
});

/** Top-level folders of the packages npm installs only for development, from the lockfile. */
function devPackageFolders(): string[] {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean }> };
    return Object.entries(lock.packages)
        .filter(([path, entry]) => entry.dev === true && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path))
        .map(([path]) => path);
}

/** What a file set must not hold: a development package, a source map, TypeScript sources or tests. */
function unwanted(files: readonly string[]): string[] {
    const dev = devPackageFolders();
    return files.filter((file) => dev.some((folder) => file.startsWith(`${folder}/`)) || /\.map$/.test(file) || /^(src|test|bench|dist\/test)\//.test(file));
}

describe('what each documented deploy path ships', () => {
    let staged: string[] = [];
    let stagedIgnore = '';

    before(() => {
        // What npm run package stages into .package and zips: built here from the lockfile, as it does.
        const folder = mkdtempSync(join(tmpdir(), 'marketplace-leads-stage-'));
        try {
            stage(projectRoot, folder);
            staged = expandGlob(folder, '**/*').map((file) => relative(folder, file));
            stagedIgnore = readFileSync(join(folder, '.funcignore'), 'utf8');
        } finally {
            rmSync(folder, { recursive: true, force: true });
        }
    });

    it('has development packages to keep out, and the staged app runs', () => {
        assert.ok(devPackageFolders().includes('node_modules/azurite'));
        for (const file of ['host.json', 'package.json', 'dist/src/functions/receiveLead.js', 'node_modules/@azure/functions/package.json', 'node_modules/zod/package.json']) assert.ok(staged.includes(file), file);
        assert.equal((JSON.parse(read('package.json')) as { main: string }).main, 'dist/src/functions/*.js');
    });

    it('npm run deploy uploads the zip of the staged app: no development package, no source map', () => {
        assert.match(read('infra/deploy.sh'), /npm run package/);
        assert.match(read('infra/deploy.sh'), /az functionapp deployment source config-zip [^\n]*--src dist\/marketplace-leads\.zip/);
        assert.doesNotMatch(read('infra/deploy.sh'), /func azure functionapp publish/, 'Core Tools would zip the local folder, development tools and all');
        assert.deepEqual(unwanted(staged), []);
    });

    it('Core Tools, run in .package as the README shows it, ships the same, read by its own .funcignore rules', () => {
        assert.match(read('README.md'), new RegExp(`cd ${stageFolder.replace('.', '\\.')} && func azure functionapp publish`));
        const ignored = coreToolsIgnores(stagedIgnore);
        assert.deepEqual(unwanted(staged.filter((file) => !ignored(file))), []);
    });

    it('azd deploys .package (azure.yaml dist), built by its prepackage hook after installing, read with gitignore rules', () => {
        const yaml = read('azure.yaml');
        assert.match(yaml, new RegExp(`dist: ${stageFolder.replace('.', '\\.')}`));
        assert.match(yaml, /run: npm ci [^\n]*&& npm run package/, 'on a fresh clone nothing is installed when the hook runs');
        const rules = stagedIgnore.split(/\r?\n/).flatMap((line) => ignoreRule(line) ?? []);
        assert.deepEqual(unwanted(staged.filter((file) => !rules.some((ignored) => ignored(file)))), []);
        assert.ok(!rules.some((ignored) => ignored('node_modules/zod/package.json')), 'node_modules is shipped, so azd does not switch to a remote build');
    });

    it('Core Tools reads the root .funcignore as anchored: maps under dist are left out only by the **/ pattern, and the root folder would ship development packages', () => {
        const funcignore = read('.funcignore');
        const ignored = coreToolsIgnores(funcignore);
        assert.equal(ignored('dist/src/functions/receiveLead.js.map'), true);
        assert.equal(coreToolsIgnores(funcignore.replace('**/*.js.map', ''))('dist/src/functions/receiveLead.js.map'), false, 'the parser anchors "*.js.map" at the root');
        assert.equal(ignored('node_modules/fast-check/package.json'), false, 'why the README publishes from .package, not the repository root');
    });
});
