import type { DestinationState } from './leadView';

/** Worst first: a lead shows the first of these that any of its destinations is in. An uncertain delivery comes first, as a person must check the destination before anything is replayed. */
const severity = ['uncertain', 'poisoned', 'failing', 'waiting', 'delivered'] as const;

export type OverallKind = (typeof severity)[number];

/** One state for a lead, at a glance, from its destinations': the worst of them, how many, and each destination's in words. */
export interface OverallState {
    kind: OverallKind;
    /** What the list shows: "all delivered", "2 failing", "waiting", "1 poisoned", "1 uncertain". */
    label: string;
    /** Each destination and its state, for a title: "table: delivered; webhook: failed (HTTP 400)". */
    detail: string;
}

function kindOf(d: DestinationState): OverallKind {
    if (d.state === 'uncertain') return 'uncertain';
    // A destination in a poison queue waits for a person, whatever its last attempt said.
    if (d.poisoned) return 'poisoned';
    if (d.state === 'failed') return 'failing';
    if (d.state === 'pending') return 'waiting';
    return 'delivered';
}

function detailOf(d: DestinationState): string {
    const poisoned = d.poisoned ? ', in the poison queue' : '';
    return `${d.destination}: ${d.state}${poisoned}${d.lastError ? ` (${d.lastError})` : ''}`;
}

/** The lead's one state: the worst of its destinations' (all delivered, or how many wait, fail or need a person). */
export function overallState(destinations: readonly DestinationState[]): OverallState {
    const detail = destinations.length === 0 ? 'No destination is routed this lead.' : destinations.map(detailOf).join('; ');
    const kinds = destinations.map(kindOf);
    const kind = severity.find((k) => kinds.includes(k)) ?? 'delivered';
    const count = kinds.filter((k) => k === kind).length;
    if (destinations.length === 0) return { kind, label: 'no destination', detail };
    if (kind === 'delivered') return { kind, label: destinations.every((d) => d.state === 'skipped') ? 'skipped' : 'all delivered', detail };
    if (kind === 'waiting') return { kind, label: 'waiting', detail };
    return { kind, label: `${count} ${kind}`, detail };
}
