import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DestinationState } from '../../src/console/leadView';
import { overallState } from '../../src/console/overallState';
import type { DeliveryState } from '../../src/deliver/deliveryLog';

function at(destination: string, state: DeliveryState, changes: Partial<DestinationState> = {}): DestinationState {
    return { destination, state, attempts: state === 'pending' ? 0 : 1, poisoned: false, ...changes };
}

describe("a lead's one state, from its destinations'", () => {
    it('says all delivered when every destination took it or had nothing to do', () => {
        const state = overallState([at('table', 'delivered'), at('salesforce', 'submitted'), at('teams', 'skipped')]);
        assert.deepEqual(state, { kind: 'delivered', label: 'all delivered', detail: 'table: delivered; salesforce: submitted; teams: skipped' });
        assert.equal(overallState([at('webhook', 'skipped')]).label, 'skipped');
    });

    it('counts the failing destinations, and puts each reason in the detail', () => {
        const state = overallState([at('table', 'delivered'), at('webhook', 'failed', { lastError: 'HTTP 503' }), at('hubspot', 'failed'), at('teams', 'pending')]);
        assert.equal(state.kind, 'failing');
        assert.equal(state.label, '2 failing');
        assert.match(state.detail, /webhook: failed \(HTTP 503\); hubspot: failed; teams: pending$/);
    });

    it('shows the worst: uncertain, then poisoned, then failing, then waiting', () => {
        const poisoned = at('webhook', 'failed', { poisoned: true });
        const uncertain = at('slack', 'uncertain', { poisoned: true });
        assert.equal(overallState([at('table', 'pending'), at('hubspot', 'failed'), poisoned]).label, '1 poisoned');
        assert.equal(overallState([poisoned, uncertain]).label, '1 uncertain');
        assert.equal(overallState([at('table', 'delivered'), at('webhook', 'pending')]).label, 'waiting');
        assert.match(overallState([poisoned]).detail, /webhook: failed, in the poison queue/);
    });

    it('says so when no destination is routed the lead', () => {
        assert.deepEqual(overallState([]), { kind: 'delivered', label: 'no destination', detail: 'No destination is routed this lead.' });
    });
});
