import type { DestinationName } from '../config/settings';

export type CheckStatus = 'ok' | 'warning' | 'failing';

/** What `npm run leads -- check` can test: a destination that calls out (the table is the app's own storage), or the mail transport of digests and alerts. */
export type CheckTarget = Exclude<DestinationName, 'table'> | 'mail';

/**
 * How one check ended. `summary` is one sentence with the vendor's status and codes and the
 * setting to fix: never a secret, a URL's path or query, or a lead's personal data.
 */
export interface CheckResult {
    target: CheckTarget;
    status: CheckStatus;
    summary: string;
    checkedAt: string;
}

/** What a check found wrong: `failing` when leads cannot go, `warning` when they can but soon may not. */
export class CheckProblem extends Error {
    constructor(
        message: string,
        readonly status: Exclude<CheckStatus, 'ok'> = 'failing',
    ) {
        super(message);
        this.name = 'CheckProblem';
    }
}

/** How a check is run: the caller's time limit, and whether a visible test post is wanted (`--post`). */
export interface CheckOptions {
    signal?: AbortSignal;
    post: boolean;
}
