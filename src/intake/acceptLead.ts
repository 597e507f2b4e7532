import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { intakeSettings } from '../config/settings';
import { isAnonymous } from '../lead/identity';
import type { Lead } from '../lead/lead';
import { anchoredTo } from '../lead/normalize';
import { JsonQueue, MessageTooLargeError, StorageUnavailableError } from '../queue/jsonQueue';
import { leadMessageReserve } from '../queue/leadMessage';
import { webPageReason } from '../runtime/crossSite';
import { lazy } from '../runtime/lazy';
import { AnonymousRetries } from './anonymousRetries';
import { bodyKindOf, decodeBody, readLimitedBody } from './body';
import { IntakeError } from './intakeError';
import { parseLead } from './parseLead';

/** Marketplace leads are a few hundred bytes; 64 KiB leaves room and bounds the work per request. */
export const maxBodyBytes = 64 * 1024;

/** Seconds a sender should wait before retrying when storage is down. */
const retryAfterSeconds = 10;

const leadQueue = lazy(() => {
    const { storage, LEADS_QUEUE } = intakeSettings();
    return JsonQueue.connect(storage, LEADS_QUEUE);
});

const anonymousRetries = lazy(() => {
    const { storage, ANONYMOUS_LEADS_TABLE } = intakeSettings();
    return AnonymousRetries.connect(storage, ANONYMOUS_LEADS_TABLE);
});

/** As long as a send may take: a storage service that never answers gets a 503, not a hung request. */
const anchorDeadlineMs = 10_000;

/** A lead without personal data takes the id of the POST it repeats, if it repeats one. */
async function identified(lead: Lead): Promise<Lead> {
    if (!isAnonymous(lead.customer)) return lead;
    try {
        const retries = await anonymousRetries();
        const anchor = await Promise.race([retries.anchorFor(lead), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${anchorDeadlineMs} ms`)), anchorDeadlineMs).unref())]);
        return anchoredTo(lead, anchor);
    } catch (error) {
        throw new StorageUnavailableError(intakeSettings().ANONYMOUS_LEADS_TABLE, error);
    }
}

function errorResponse(status: number, error: string, extra: Record<string, unknown> = {}): HttpResponseInit {
    return { status, jsonBody: { error, ...extra } };
}

/**
 * Accepts one lead: checks size and type, parses and normalises it, and answers 202 with its id
 * only once it is stored on the queue.
 */
export async function acceptLead(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    try {
        const fromPage = webPageReason((name) => request.headers.get(name));
        if (fromPage) throw new IntakeError(403, `${fromPage} Leads come from the marketplace's servers, not from web pages.`);
        const { kind, charset } = bodyKindOf(request.headers.get('content-type'));
        const text = decodeBody(await readLimitedBody(request, maxBodyBytes), charset);
        const lead = await identified(parseLead(text, kind, { receivedAt: new Date(), receiptId: randomUUID() }));
        // Room is kept for the delivery envelope, so that every retry of an accepted lead still fits.
        await (await leadQueue()).send(lead, { reserve: leadMessageReserve });
        context.log(`Accepted lead ${lead.id}: ${lead.source || '(no source)'} ${lead.action || '(no action)'}${lead.isTest ? ', test lead' : ''}.`);
        return { status: 202, jsonBody: { id: lead.id } };
    } catch (error) {
        if (error instanceof IntakeError) {
            // Field names only: the message never carries the customer's values.
            context.warn(`Refused a lead with ${error.status}: ${error.message}`);
            const problems = error.problems.length > 0 ? { problems: error.problems } : {};
            return errorResponse(error.status, error.message, problems);
        }
        if (error instanceof MessageTooLargeError) {
            context.warn(`Refused a lead with 413: ${error.message}`);
            return errorResponse(413, error.message);
        }
        if (error instanceof StorageUnavailableError) {
            context.error(`Could not store a lead: ${String(error.cause)}`);
            return { ...errorResponse(503, 'The lead could not be stored; try again shortly.'), headers: { 'retry-after': String(retryAfterSeconds) } };
        }
        throw error;
    }
}
