import { z } from 'zod';
import { leadSchema } from '../lead/lead';

/**
 * A message on the leads queue: the lead, and for a retry or a poisoned message, how far its
 * delivery got. Intake sends the bare lead.
 */
export const leadMessageSchema = leadSchema.extend({
    delivery: z
        .object({
            attempt: z.number().int().min(1),
            reason: z.string().optional(),
        })
        .optional(),
});

export type LeadMessage = z.infer<typeof leadMessageSchema>;
