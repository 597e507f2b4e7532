import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveSettingReferences } from '../../src/host/appSettings';
import { readHostConfig } from '../../src/host/hostConfig';
import { expandGlob } from '../../src/host/glob';
import { matchRoute, routeOf } from '../../src/host/routes';
import { parseTimeSpan } from '../../src/host/timespan';
import { httpFunction } from '../../src/runtime/define';
import { projectRoot } from '../helpers/samples';

describe('host.json', () => {
    it('reads the project host.json: version 2.0, queue settings and the route prefix', () => {
        const config = readHostConfig(projectRoot);
        assert.equal(config.routePrefix, 'api');
        assert.equal(config.queues.messageEncoding, 'base64');
        assert.equal(config.queues.batchSize, 16);
        assert.equal(config.queues.newBatchThreshold, 8);
        assert.equal(config.queues.maxDequeueCount, 5);
        assert.equal(config.queues.maxPollingInterval, 2000);
        assert.equal(config.functionTimeoutMs, 20 * 60_000);
    });

    it('applies the Functions defaults for what host.json leaves out, and names what is wrong', () => {
        const dir = mkdtempSync(join(tmpdir(), 'hostjson-'));
        writeFileSync(join(dir, 'host.json'), JSON.stringify({ version: '2.0' }));
        const config = readHostConfig(dir);
        assert.equal(config.queues.maxPollingInterval, 60_000);
        assert.equal(config.queues.maxDequeueCount, 5);
        assert.equal(config.queues.newBatchThreshold, 8);
        assert.equal(config.routePrefix, 'api');
        writeFileSync(join(dir, 'host.json'), JSON.stringify({ version: '2.0', extensions: { queues: { visibilityTimeout: '30s' } } }));
        assert.throws(() => readHostConfig(dir), /extensions\.queues\.visibilityTimeout: "30s" is not a time span/);
        writeFileSync(join(dir, 'host.json'), JSON.stringify({ version: '1.0' }));
        assert.throws(() => readHostConfig(dir), /version/);
    });

    it('reads .NET time spans', () => {
        assert.equal(parseTimeSpan('00:00:30'), 30_000);
        assert.equal(parseTimeSpan('1.02:03:04.5'), ((26 * 60 + 3) * 60 + 4) * 1000 + 500);
    });
});

describe('routes', () => {
    const handler = () => ({ status: 200 });
    const leads = routeOf(httpFunction('receiveLead', { route: 'leads', methods: ['POST'], handler }), 'api');
    const item = routeOf(httpFunction('getLead', { route: 'leads/{id}/{part?}', methods: ['GET'], handler }), 'api');
    const byName = routeOf(httpFunction('Hello', { handler }), '');

    it('matches the route under the prefix, case-insensitively, with parameters', () => {
        assert.ok(matchRoute([leads], '/api/leads', 'POST'));
        assert.ok(matchRoute([leads], '/API/Leads/', 'post'));
        assert.deepEqual(matchRoute([leads, item], '/api/leads/abc', 'GET')?.params, { id: 'abc' });
        assert.deepEqual(matchRoute([item], '/api/leads/a%20b/x', 'GET')?.params, { id: 'a b', part: 'x' });
        assert.ok(matchRoute([byName], '/hello', 'GET'));
    });

    it('does not match another method or path', () => {
        assert.equal(matchRoute([leads], '/api/leads', 'GET'), undefined);
        assert.equal(matchRoute([leads], '/api/leadsx', 'POST'), undefined);
        assert.equal(matchRoute([leads], '/leads', 'POST'), undefined);
    });
});

describe('app settings and function files', () => {
    it('resolves %SETTING% references and names a missing one', () => {
        assert.equal(resolveSettingReferences('%Q%-x', { Q: 'leads' }), 'leads-x');
        assert.throws(() => resolveSettingReferences('%NOTIFY_SCHEDULE%', {}), /NOTIFY_SCHEDULE/);
    });

    it('finds the files package.json "main" names', () => {
        const files = expandGlob(projectRoot, 'dist/src/functions/*.js');
        assert.ok(files.some((f) => f.endsWith('receiveLead.js')));
        assert.ok(files.every((f) => f.endsWith('.js')));
    });
});
