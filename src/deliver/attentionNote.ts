import type { Lead } from '../lead/lead';
import type { AttentionIndex, AttentionMark } from './attentionIndex';

/**
 * Writes where a delivery stands to the attention index, or clears it (`done`). Never throws: the
 * index is what the console reads, and a write that fails must not change what happens to the
 * lead. The failure is logged without the customer.
 */
export async function noteAttention(index: AttentionIndex, lead: Lead, destination: string, mark: AttentionMark | 'done', log: (line: string) => void): Promise<void> {
    try {
        if (mark === 'done') await index.clear(lead.id, destination);
        else await index.mark(lead, destination, mark);
    } catch (error) {
        const what = mark === 'done' ? 'clear' : `mark as ${mark.state}`;
        log(`Lead ${lead.id}: could not ${what} its ${destination} delivery in the attention index (${error instanceof Error ? error.name : 'an error'}); the console may show it wrongly until its next attempt.`);
    }
}
