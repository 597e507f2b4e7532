import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryPosition, entryState } from '../../src/console/leadView';
import { readSettings } from '../../src/config/settings';
import type { AttentionEntry, AttentionState } from '../../src/deliver/attentionIndex';

const entry = (state: AttentionState, failed: boolean): AttentionEntry => ({
    leadId: 'a'.repeat(32),
    destination: 'webhook',
    state,
    failed,
    reason: 'The webhook answered 503.',
    nextTryAt: '2026-12-03T10:05:00.000Z',
    at: '2026-12-03T10:04:00.000Z',
    receivedAt: '2026-12-03T10:00:00Z',
    company: 'Contoso',
    offer: 'Contoso Analytics',
    offerId: 'contoso.analytics',
    source: 'AzureMarketplace',
    action: 'INS',
    isTest: false,
    doNotContact: false,
});

describe('the attention index as the console shows it', () => {
    it('maps each entry to the delivery state it stands for, with why and when it is tried next', () => {
        const states = (['retrying', 'waiting', 'poisoned', 'uncertain', 'replayed'] as const).flatMap((state) =>
            [true, false].map((failed) => [state, failed, entryState(entry(state, failed)).state, entryState(entry(state, failed)).poisoned]),
        );
        assert.deepEqual(states, [
            ['retrying', true, 'failed', false],
            ['retrying', false, 'failed', false],
            ['waiting', true, 'failed', false],
            // Waiting behind the circuit before its first attempt: nothing failed yet.
            ['waiting', false, 'pending', false],
            ['poisoned', true, 'failed', true],
            ['poisoned', false, 'failed', true],
            ['uncertain', true, 'uncertain', true],
            ['uncertain', false, 'uncertain', true],
            ['replayed', true, 'failed', false],
            ['replayed', false, 'uncertain', false],
        ]);
        const shown = entryState(entry('waiting', true));
        assert.equal(shown.nextTryAt, '2026-12-03T10:05:00.000Z');
        assert.equal(shown.lastError, 'The webhook answered 503.');
        assert.equal(shown.attention, 'waiting');
    });

    it('places an entry among the leads by when it came, as a row key starts', () => {
        assert.equal(entryPosition(entry('retrying', true)), `2026-12-03T10:00:00.000Z_${'a'.repeat(32)}`);
    });

    it('refuses a deliveries table name that leaves no room for "Attention"', () => {
        assert.equal(readSettings({ DELIVERIES_TABLE: 'D'.repeat(54) }).DELIVERIES_TABLE, 'D'.repeat(54));
        assert.throws(() => readSettings({ DELIVERIES_TABLE: 'D'.repeat(55) }), /DELIVERIES_TABLE.*3 to 54 letters and digits/);
    });
});
