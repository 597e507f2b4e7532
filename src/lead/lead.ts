import { z } from 'zod';
import { campaignSchema } from './campaign';

const plainObject = z.custom<Record<string, unknown>>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), { message: 'expected an object' });

export const customerSchema = z.object({
    firstName: z.string(),
    lastName: z.string(),
    email: z.string(),
    phone: z.string(),
    country: z.string(),
    company: z.string(),
    title: z.string(),
});

/** A lead as the app keeps it: normalised, identified, and with whatever else the sender included. */
export const leadSchema = z.object({
    /** Stable id derived from the dedupe key: the same lead posted twice has the same id. */
    id: z.string().regex(/^[0-9a-f]{32}$/),
    /** Same customer, same offer, same action: the same lead. */
    dedupeKey: z.string(),
    receivedAt: z.iso.datetime(),
    /**
     * When storage took the POST's message off the intake, on storage's own clock (the queue's
     * insertion time, to the second): what orders a lead's versions, since instances' clocks disagree.
     * Set by the fan-out; a message from before it has none.
     */
    queuedAt: z.iso.datetime().optional(),
    /** The version of its content (16 hex digits): an identical repeat has the same, an update another. */
    version: z.string().regex(/^[0-9a-f]{16}$/),
    /** Unique to each POST: tells a lead posted again from the same message delivered again. */
    receiptId: z.string().min(1),
    /** The shape it arrived in: the marketplace's JSON or the web-to-lead form of its test lead. */
    format: z.enum(['json', 'form']),
    leadSource: z.string(),
    source: z.string(),
    action: z.string(),
    offer: z.string(),
    publisherId: z.string(),
    offerId: z.string(),
    offerTitle: z.string(),
    description: z.string(),
    customer: customerSchema,
    /** Campaign values found in the Description (mktcmpid, utm_*); the Description itself is kept as sent. */
    campaign: campaignSchema,
    isTest: z.boolean(),
    doNotContact: z.boolean(),
    /** Properties the model does not know, kept as sent. */
    extra: plainObject,
});

export type Lead = z.infer<typeof leadSchema>;

/** The receipts of leads brought in by `npm run leads -- import`, not posted by the marketplace. */
export const importReceiptPrefix = 'import-';

/** The receipts of rows of Partner Center's analytics download, one per referral: such a lead is known by its referral (see dedupeKeyFor). */
export const referralReceiptPrefix = `${importReceiptPrefix}referral-`;

export function isImported(lead: Pick<Lead, 'receiptId'>): boolean {
    return lead.receiptId.startsWith(importReceiptPrefix);
}
export type Customer = z.infer<typeof customerSchema>;
