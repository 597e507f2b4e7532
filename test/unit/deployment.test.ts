import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { settingsSchema } from '../../src/config/settings';
import { readHostConfig } from '../../src/host/hostConfig';
import { appEntryFiles, loadFunctions } from '../../src/host/loadApp';
import { packagedFiles } from '../../src/scripts/package';
import { projectRoot } from '../helpers/samples';

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
        assert.deepEqual(azureOnly.filter((name) => !bicepSettings.has(name) && !bicepOptional.has(name)), [], 'the identity settings are Azure\'s');
    });

    it('every setting is in the Bicep app settings, or marked there as not set in Azure', () => {
        const missing = settingNames.filter((name) => !bicepSettings.has(name) && !bicepOptional.has(name));
        assert.deepEqual(missing, []);
        assert.deepEqual([...bicepSettings].filter((name) => bicepOptional.has(name)), [], 'a setting is either set or marked optional, not both');
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

    it('package.json "main" matches the build output, and each file there defines functions', () => {
        const files = appEntryFiles(projectRoot);
        assert.ok(files.length >= 3);
        const names = loadFunctions(files).map((f) => f.name).sort();
        assert.deepEqual(names, ['deliverDynamics', 'deliverHubspot', 'deliverLead', 'deliverMarketo', 'deliverSalesforce', 'deliverTable', 'deliverWebhook', 'notifyContacts', 'receiveLead']);
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
