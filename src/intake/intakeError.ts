import type { FieldProblem } from '../lead/rawLead';

/** What a client sent wrong: answered with its status and a short JSON message, never a 5xx. */
export class IntakeError extends Error {
    constructor(
        readonly status: 400 | 403 | 413 | 415,
        message: string,
        readonly problems: FieldProblem[] = [],
    ) {
        super(message);
        this.name = 'IntakeError';
    }
}
