import { z } from 'zod';
import { destinationNames } from '../config/settings';
import { leadSchema } from '../lead/lead';
import { parseCampaign } from '../lead/campaign';
import { normalFormProblems } from '../lead/normalize';
import { contentVersion } from '../lead/version';

/**
 * Bytes of the queue message limit that intake keeps free for the delivery envelope: every copy
 * of an accepted lead (a retry, a poison entry, a replay) must still fit in one message.
 */
export const leadMessageReserve = 512;

/**
 * Where a copy of a lead stands in its delivery to one destination. `ticket` numbers the links of
 * one retry chain, so that a duplicate link (a crash between sending the next message and
 * deleting this one) is recognised and dropped; `attempt` counts towards DELIVERY_MAX_ATTEMPTS.
 * Reasons are kept in the delivery records, never here, so the envelope stays small.
 */
const deliverySchema = z.object({
    destination: z.enum(destinationNames).optional(),
    ticket: z.number().int().min(1).default(1),
    attempt: z.number().int().min(1).default(1),
    /** Sent by replay-poison: deliver again even where the last attempt failed or is uncertain. */
    replay: z.boolean().optional(),
    /** Sent back by an open circuit: it may have an entry in the attention index, which its success clears. */
    waited: z.boolean().optional(),
});

/**
 * A message on the leads queue or a destination's queue: the lead and, past intake, its delivery
 * envelope. Messages written before leads had versions or campaigns get them from their content.
 * The lead must be in the intake's normal form (normalFormProblems).
 */
export const leadMessageSchema = leadSchema
    .extend({ version: leadSchema.shape.version.optional(), campaign: leadSchema.shape.campaign.optional(), delivery: deliverySchema.optional() })
    .transform((message) => ({ ...message, version: message.version ?? contentVersion(message), campaign: message.campaign ?? parseCampaign(message.description) }))
    // The intake's own checks, whichever way the message came (the admin API, an edited poison message):
    // a lead the intake could not have made is refused, not delivered.
    .superRefine((message, context) => {
        for (const problem of normalFormProblems(message)) context.addIssue({ code: 'custom', message: problem });
    });

export type LeadMessage = z.output<typeof leadMessageSchema>;
export type Delivery = z.output<typeof deliverySchema>;
export type DestinationMessage = LeadMessage & { delivery: Delivery & { destination: NonNullable<Delivery['destination']> } };
