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

/** What one attempt took, inline or from the queue, against the inline budget. */
export function noteInlineTiming(destination: DestinationName, elapsedMs: number, budgetMs: number, cutOff: boolean): void {
    if (cutOff || elapsedMs >= budgetMs) slow.add(destination);
    else if (elapsedMs < budgetMs / 2) slow.delete(destination);
}

/** Every destination called inline again: for tests that slow one down on purpose, one after another. */
export function reopenInline(): void {
    slow.clear();
}
