import type { Settings } from '../config/settings';

/** While one probe is out, the other leads wait this long before they look again. */
const probeWaitMs = 5_000;

/** When a circuit opens and how long it stays open: DELIVERY_CIRCUIT_* settings. */
export interface CircuitTimings {
    /** Consecutive transient failures that open a destination's circuit; 0: it never opens. */
    failuresToOpen: number;
    firstPauseMs: number;
    longestPauseMs: number;
}

export function circuitTimings(settings: Pick<Settings, 'DELIVERY_CIRCUIT_FAILURES' | 'DELIVERY_CIRCUIT_PAUSE_SECONDS' | 'DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS'>): CircuitTimings {
    return {
        failuresToOpen: settings.DELIVERY_CIRCUIT_FAILURES,
        firstPauseMs: settings.DELIVERY_CIRCUIT_PAUSE_SECONDS * 1000,
        longestPauseMs: settings.DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS * 1000,
    };
}

/** `probe`: this admission is the one lead let through an open circuit; only it may give the probe back. */
export type Admission = { admitted: true; probe: boolean } | { admitted: false; retryInMs: number };

/**
 * Stops hammering a destination that keeps failing. After five transient failures in a row (by
 * default) its circuit opens: its leads wait, without calling and without spending an attempt, for
 * 30 s (doubling up to 5 minutes while it stays down). Then one lead probes it; success closes the
 * circuit. Each instance keeps its own circuits; a change of state comes back as a sentence for the log.
 */
export class CircuitBreaker {
    private failures = 0;
    private openUntil = 0;
    private pauseMs: number;
    private probing = false;
    /** The first transient failure since the destination last answered, and the latest one's reason: its failing spell. */
    private failingSinceMs: number | undefined;
    private lastFailureMs = 0;
    private lastReason = '';
    private spellAlerted = false;

    constructor(
        readonly destination: string,
        readonly timings: CircuitTimings,
        private readonly now: () => number = Date.now,
    ) {
        this.pauseMs = timings.firstPauseMs;
    }

    get isOpen(): boolean {
        return this.openUntil > 0;
    }

    admit(): Admission {
        if (!this.isOpen) return { admitted: true, probe: false };
        const left = this.openUntil - this.now();
        if (left > 0) return { admitted: false, retryInMs: left };
        if (this.probing) return { admitted: false, retryInMs: probeWaitMs };
        this.probing = true;
        return { admitted: true, probe: true };
    }

    /** An admitted lead made no call after all (another copy had it): if it was the probe, the next lead probes. */
    release(admission: Admission): void {
        if (admission.admitted && admission.probe) this.probing = false;
    }

    /** The destination answered: a 2xx, or a refusal of this lead alone (which says the service is up). */
    succeeded(): string | undefined {
        const wasOpen = this.isOpen;
        this.failures = 0;
        this.openUntil = 0;
        this.pauseMs = this.timings.firstPauseMs;
        this.probing = false;
        this.failingSinceMs = undefined;
        this.spellAlerted = false;
        return wasOpen ? `The ${this.destination} destination answered again: its circuit is closed, and its waiting leads go on.` : undefined;
    }

    failed(reason = ''): string | undefined {
        const now = this.now();
        // Its retries may have gone through on other instances meanwhile: an old failure starts nothing.
        // Failures further apart than two longest pauses are not one spell: it must have answered elsewhere.
        if (!this.isOpen && now - this.lastFailureMs > 2 * this.timings.longestPauseMs) {
            this.failures = 0;
            this.failingSinceMs = undefined;
            this.spellAlerted = false;
        }
        this.lastFailureMs = now;
        this.failures++;
        this.failingSinceMs ??= now;
        this.lastReason = reason;
        if (this.probing) {
            this.probing = false;
            this.pauseMs = Math.min(this.pauseMs * 2, this.timings.longestPauseMs);
            return this.open('its probe failed too');
        }
        const { failuresToOpen } = this.timings;
        if (!this.isOpen && failuresToOpen > 0 && this.failures >= failuresToOpen) return this.open(`it failed ${this.failures} times in a row`);
        return undefined;
    }

    /**
     * The circuit is open and the destination has failed, with no answer since, for `minutes` or more,
     * and this spell has no "failing" alert yet: whichever leads it let through, the waiting ones count
     * too. (While it is closed, each lead's retry chain finds itself failing at its own attempts.)
     */
    failingAlertDue(minutes: number): { since: string; reason: string } | undefined {
        if (!this.isOpen || this.failingSinceMs === undefined || this.spellAlerted || this.now() - this.failingSinceMs < minutes * 60_000) return undefined;
        return { since: new Date(this.failingSinceMs).toISOString(), reason: this.lastReason };
    }

    /** How long until the spell's alert is due; undefined when the circuit is closed or the spell already alerted. */
    msUntilFailingAlert(minutes: number): number | undefined {
        if (!this.isOpen || this.failingSinceMs === undefined || this.spellAlerted) return undefined;
        return Math.max(0, this.failingSinceMs + minutes * 60_000 - this.now());
    }

    /** Why a lead waits, for the console: the spell's failures and the last one's reason. */
    waitingReason(): string {
        const last = this.lastReason ? ` (last: ${this.lastReason})` : '';
        return `The ${this.destination} destination's circuit is open after ${this.failures} failures in a row${last}: the lead waits without spending an attempt.`;
    }

    markFailingAlerted(): void {
        this.spellAlerted = true;
    }

    private open(why: string): string {
        this.openUntil = this.now() + this.pauseMs;
        return `The ${this.destination} destination's circuit is open (${why}): its leads wait ${Math.round(this.pauseMs / 1000)} s before it is tried again.`;
    }
}

const breakers = new Map<string, CircuitBreaker>();

function sameTimings(a: CircuitTimings, b: CircuitTimings): boolean {
    return a.failuresToOpen === b.failuresToOpen && a.firstPauseMs === b.firstPauseMs && a.longestPauseMs === b.longestPauseMs;
}

/** The circuit of one destination in this instance; other timings (only tests change settings in a process) start a new one. */
export function breakerFor(destination: string, timings: CircuitTimings): CircuitBreaker {
    let breaker = breakers.get(destination);
    if (!breaker || !sameTimings(breaker.timings, timings)) {
        breaker = new CircuitBreaker(destination, timings);
        breakers.set(destination, breaker);
    }
    return breaker;
}

/** Closes every circuit of this instance: for tests that fail a destination on purpose, one after another. */
export function closeAllCircuits(): void {
    breakers.clear();
}
