import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { settingsSchema } from '../../src/config/settings';
import { readHostConfig } from '../../src/host/hostConfig';
import { appEntryFiles, loadFunctions } from '../../src/host/loadApp';
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

    it('every secret goes through Key Vault', () => {
        const main = read('infra/main.bicep');
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

    it('keeps secrets recoverable and names its vault anew after azd down; no basic publishing credentials; mail that can send and stays where the publisher says', () => {
        const vault = read('infra/app/keyvault.bicep');
        assert.match(vault, /enablePurgeProtection: true/);
        const main = read('infra/main.bicep');
        assert.match(main, /name: 'kv-\$\{take\(uniqueString\(token, identity\.outputs\.principalId\), 13\)\}'/, 'a new identity (azd down, then up) gets a new vault name');
        for (const policy of ['ftp', 'scm']) assert.match(bicep, new RegExp(`basicPublishingCredentialsPolicies@[^']+' = \\{\\n\\s+parent: app\\n\\s+name: '${policy}'\\n\\s+properties: \\{ allow: false \\}`), policy);
        const email = read('infra/app/email.bicep');
        assert.match(email, /09976791-48a7-449e-bb21-39d1a415f350/, 'Communication and Email Service Owner, the built-in role');
        assert.doesNotMatch(email, /roleDefinitions@/, 'no custom role of our own');
        assert.match(main, /param emailDataLocation string = 'United States'/);
        assert.match(main, /dataLocation: emailDataLocation/);
    });

    it('docs/DEPLOY.md\'s "Rotate a secret" names every secret Key Vault holds', () => {
        const names = [...(/var secrets = \{\n((?:\s+'[a-z-]+': \w+\n)+)\}/.exec(read('infra/main.bicep'))?.[1]?.matchAll(/'([a-z-]+)'/g) ?? [])].map((m) => m[1] ?? '');
        assert.equal(names.length, 10);
        const rotate = /## Rotate a secret\n\n[^]*?\n\n/.exec(read('docs/DEPLOY.md'))?.[0] ?? '';
        assert.deepEqual(
            names.filter((name) => !rotate.includes(`\`${name}\``)),
            [],
        );
    });

    it('turns on App Service Authentication for the console in the mode that still lets the marketplace post leads', () => {
        const auth = /resource auth 'Microsoft\.Web\/sites\/config@[^']+' = if \(!empty\(consoleClientId\)\) \{[^]*?\n\}/.exec(bicep)?.[0] ?? '';
        assert.match(auth, /name: 'authsettingsV2'/);
        assert.match(auth, /requireAuthentication: false, unauthenticatedClientAction: 'AllowAnonymous'/);
        assert.match(auth, /clientSecretSettingName: 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET'/);
        assert.match(auth, /openIdIssuer: '\$\{environment\(\)\.authentication\.loginEndpoint\}\$\{tenant\(\)\.tenantId\}\/v2\.0'/);
        assert.match(bicep, /CONSOLE_ALLOWED_ROLES: consoleAllowedRoles/);
        assert.match(bicep, /CONSOLE_ALLOWED_GROUPS: consoleAllowedGroups/);
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

    it('azure.yaml deploys the app as the "api" function service', () => {
        const yaml = read('azure.yaml');
        assert.match(yaml, /services:\s*\n\s+api:\s*\n(\s+\w+: .*\n)*/);
        assert.match(yaml, /host: function/);
        assert.match(yaml, /language: ts/);
        assert.match(read('infra/app/api.bicep'), /resource app 'Microsoft\.Web\/sites/);
        assert.match(read('infra/main.bicep'), /'azd-service-name': 'api'/);
    });
});
