import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startAzurite, type Azurite } from '../../src/host/azurite';
import { freePort, startApp, type RunningApp } from '../helpers/processes';

const contentTypes = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON;CHARSET="UTF-8"',
    'application/x-www-form-urlencoded',
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=x',
    'application/json; charset=latin1',
    'application/json; charset=nonsense',
    '',
);

const bodies = fc.oneof(
    fc.json({ maxDepth: 4 }),
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    fc.record({ UserDetails: fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.string(), fc.integer(), fc.constant(null))), LeadSource: fc.string() }).map((o) => JSON.stringify(o)),
    fc.integer({ min: 60_000, max: 80_000 }).map((n) => JSON.stringify({ LeadSource: 'x', Description: 'é'.repeat(n / 2) })),
    fc.integer({ min: 30, max: 3000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
);

describe('fuzzing POST /api/leads over HTTP', () => {
    let azurite: Azurite;
    let app: RunningApp;

    before(async () => {
        azurite = await startAzurite();
        app = await startApp({ env: { AzureWebJobsStorage: azurite.connectionString, 'AzureWebJobs.deliverLead.Disabled': 'true' }, port: await freePort() });
    });

    after(async () => {
        /* eslint-disable @typescript-eslint/no-unnecessary-condition -- before() may have failed before assigning these */
        await app?.stop();
        await azurite?.stop();
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
    });

    it('answers only 202, 400, 413 or 415, with JSON, and never crashes', async () => {
        await fc.assert(
            fc.asyncProperty(bodies, contentTypes, async (body, type) => {
                const response = await fetch(`${app.url}/api/leads`, { method: 'POST', headers: type ? { 'content-type': type } : {}, body });
                const text = await response.text();
                assert.ok([202, 400, 413, 415].includes(response.status), `${response.status} for ${type}: ${text}`);
                assert.ok(typeof (JSON.parse(text) as Record<string, unknown>)[response.status === 202 ? 'id' : 'error'] === 'string');
            }),
            { numRuns: 300 },
        );
        assert.equal(app.child.exitCode, null, 'the host is still running');
    });
});
