import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigurationError, readSettings } from '../../src/config/settings';

describe('settings', () => {
    it('has defaults for every setting', () => {
        const defaults = readSettings({});
        assert.equal(defaults.AzureWebJobsStorage, 'UseDevelopmentStorage=true');
        assert.equal(defaults.LEADS_QUEUE, 'leads');
        assert.equal(defaults.LEADS_TABLE, 'MarketplaceLeads');
        assert.deepEqual(defaults.LEAD_DESTINATIONS, ['table']);
        assert.deepEqual(defaults.DNC_DESTINATIONS, ['table']);
        assert.equal(defaults.DELIVER_TEST_LEADS, true);
        assert.equal(readSettings({ LEADS_QUEUE: '  ' }).LEADS_QUEUE, 'leads');
    });

    it('names each bad setting and its value', () => {
        assert.throws(
            () => readSettings({ LEADS_QUEUE: 'Leads_Queue', LEADS_TABLE: '1x' }),
            (error: unknown) =>
                error instanceof ConfigurationError &&
                /LEADS_QUEUE is "Leads_Queue": a queue name/.test(error.message) &&
                /LEADS_TABLE is "1x": a table name/.test(error.message),
        );
    });

    it('leaves room for the poison queue in the queue name', () => {
        assert.throws(() => readSettings({ LEADS_QUEUE: 'a'.repeat(57) }), /LEADS_QUEUE/);
        assert.equal(readSettings({ LEADS_QUEUE: 'a'.repeat(56) }).LEADS_QUEUE.length, 56);
    });
});
