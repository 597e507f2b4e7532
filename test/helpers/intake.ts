import assert from 'node:assert/strict';
import { IntakeError } from '../../src/intake/intakeError';

/** The IntakeError `run` throws; any other outcome fails the test. */
export function refusal(run: () => unknown): IntakeError {
    try {
        run();
    } catch (error) {
        if (error instanceof IntakeError) return error;
        throw error;
    }
    assert.fail('expected an IntakeError');
}
