import type { Settings } from '../../config/settings';
import { mappedFields, type FieldMapping } from '../../lead/fieldMapping';
import type { Lead } from '../../lead/lead';
import { DeliveryFailure, type DeliveryContext, type DeliveryOutcome, type Destination } from '../destination';
import { callExpectingSuccess } from '../http';

/** Source, action and offer in words at the end of the description, for CRMs without fields for them. */
export function describeOrigin(lead: Lead): string {
    const origin = [
        `Source: ${lead.source || '(none)'}`,
        `Action: ${lead.action || '(none)'}`,
        `Offer: ${lead.offerTitle || lead.offer || '(none)'}${lead.offer && lead.offerTitle ? ` (${lead.offer})` : ''}`,
        `Lead id: ${lead.id}`,
    ].join('\n');
    return lead.description ? `${lead.description}\n\n${origin}` : origin;
}

/** The Web-to-Lead form fields, as the marketplace's own Salesforce destination sends them, with SALESFORCE_FIELDS merged over them. */
export function webToLeadForm(lead: Lead, oid: string, mapping: FieldMapping = {}): URLSearchParams {
    const { customer } = lead;
    const fields = {
        first_name: customer.firstName,
        last_name: customer.lastName,
        email: customer.email,
        company: customer.company,
        title: customer.title,
        phone: customer.phone,
        country: customer.country,
        lead_source: lead.source,
        description: describeOrigin(lead),
    };
    // The org id and the encoding are the form's own: a mapping cannot change where the lead goes.
    return new URLSearchParams({ ...mappedFields(fields, mapping, lead), oid, encoding: 'UTF-8' });
}

/**
 * Posts a Web-to-Lead form. Salesforce answers 200 even when it drops a lead (a bad oid, a
 * validation rule, the daily cap of 500), so the delivery is recorded as "submitted". Web-to-Lead
 * has no idempotency and no update: a call that may have reached it before failing (a time-out, a
 * reset connection) is "uncertain" rather than retried into a duplicate, and a lead's update is skipped.
 */
export class SalesforceDestination implements Destination {
    readonly name = 'salesforce';
    readonly maxCalls = 1;
    /** Web-to-Lead takes every POST as a new lead. */
    readonly idempotent = false;

    constructor(
        private readonly url: string,
        private readonly oid: string,
        private readonly timeoutMs: number,
        private readonly mapping: FieldMapping = {},
    ) {}

    static create(settings: Settings): SalesforceDestination {
        return new SalesforceDestination(settings.SALESFORCE_URL, settings.SALESFORCE_OID ?? '', settings.DELIVERY_TIMEOUT_SECONDS * 1000, settings.SALESFORCE_FIELDS);
    }

    async deliver(lead: Lead, context: DeliveryContext): Promise<DeliveryOutcome> {
        if (context.mode === 'update') return { state: 'skipped', reason: 'Web-to-Lead cannot update a lead; the update is in the leads table and the digest.' };
        try {
            await callExpectingSuccess(this.url, {
                method: 'POST',
                headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
                body: webToLeadForm(lead, this.oid, this.mapping),
                timeoutMs: this.timeoutMs,
                service: 'Salesforce Web-to-Lead',
                signal: context.signal,
            });
        } catch (error) {
            if (error instanceof DeliveryFailure && error.uncertain) return { state: 'uncertain', reason: `${error.message.replace(/\.$/, '')}; Salesforce may have the lead.` };
            throw error;
        }
        return { state: 'submitted' };
    }
}
