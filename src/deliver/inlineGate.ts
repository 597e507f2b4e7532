import type { DestinationName } from '../config/settings';

/**
 * Whether the fan-out calls a destination itself, on this instance. A destination that kept an
 * inline attempt past its budget (slow, or hanging) is handed its leads through its own queue until
 * one of its deliveries there answers within half that budget: the fan-out's slots are then never
 * held by it a second time in a row.
 */
const slow = new Set<DestinationName>();

export function inlineOpen(destination: DestinationName): boolean {
    return !slow.has(destination);
}

/**
 * How one attempt, inline or from the queue, went against the inline budget. Only an answer (a
 * success, or a refusal of that lead alone) within half of it opens the gate again: a 503 that
 * comes back at once says nothing about how long the destination takes to take a lead.
 */
export function noteInlineTiming(destination: DestinationName, elapsedMs: number, budgetMs: number, ended: 'answered' | 'failed' | 'cut off'): void {
    if (ended === 'cut off' || elapsedMs >= budgetMs) slow.add(destination);
    else if (ended === 'answered' && elapsedMs < budgetMs / 2) slow.delete(destination);
}

/** Every destination called inline again: for tests that slow one down on purpose, one after another. */
export function reopenInline(): void {
    slow.clear();
}
