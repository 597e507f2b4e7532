/** The parts of a LeadSource such as `AzureMarketplace-INS|contoso.contoso-analytics-byol`. */
export interface LeadSourceParts {
    source: string;
    action: string;
    offer: string;
    publisherId: string;
    offerId: string;
}

const knownSources = ['AzureMarketplace', 'AzurePortal', 'AppSource (SPZA)', 'AppSource', 'TestDrive'];
const knownActions = ['INS', 'PLT', 'DNC', 'Create', 'StartTestDrive'];

function findKnown(value: string, known: readonly string[]): string | undefined {
    const lower = value.toLowerCase();
    return known.find((name) => name.toLowerCase() === lower);
}

/** A known source in its documented spelling; an unknown one as it came. */
export function canonicalSource(source: string): string {
    const trimmed = source.trim();
    return findKnown(trimmed, knownSources) ?? trimmed;
}

/** A known action code in its documented spelling; an unknown one as it came. */
export function canonicalAction(action: string): string {
    const trimmed = action.trim();
    return findKnown(trimmed, knownActions) ?? trimmed;
}

function isKnownAction(action: string): boolean {
    return findKnown(action.trim(), knownActions) !== undefined;
}

/** Splits `publisherid.offerid`; an offer given by name (with spaces, or no dot) has neither. */
export function splitOffer(offer: string): { publisherId: string; offerId: string } {
    const dot = offer.indexOf('.');
    if (dot <= 0 || dot === offer.length - 1 || /\s/.test(offer)) return { publisherId: '', offerId: '' };
    return { publisherId: offer.slice(0, dot), offerId: offer.slice(dot + 1) };
}

/**
 * Parses the combined form `Source-Action|Offer`, or a bare source. The action is split off at the
 * last hyphen when the text carries an offer (`|`) or the part after that hyphen is a known action
 * code, so that a source which itself contains a hyphen survives. Never throws.
 */
export function parseLeadSource(text: string): LeadSourceParts {
    const trimmed = text.trim();
    const pipe = trimmed.indexOf('|');
    const head = pipe < 0 ? trimmed : trimmed.slice(0, pipe);
    const offer = pipe < 0 ? '' : trimmed.slice(pipe + 1).trim();
    const dash = head.lastIndexOf('-');
    const splitsAction = dash > 0 && (pipe >= 0 || isKnownAction(head.slice(dash + 1)));
    const source = splitsAction ? head.slice(0, dash) : head;
    const action = splitsAction ? head.slice(dash + 1) : '';
    return {
        source: canonicalSource(source),
        action: canonicalAction(action),
        offer,
        ...splitOffer(offer),
    };
}
