import type { Settings } from '../config/settings';
import { DeliveryLog } from '../deliver/deliveryLog';
import { CheckProblem } from './checkResult';

/** Salesforce takes at most this many Web-to-Lead submissions a day; more are dropped (the admin is mailed them). */
export const webToLeadDailyCap = 500;
const warnShare = 0.8;

/** A Salesforce organisation id: 15 or 18 characters, starting with the key prefix 00D. */
const orgId = /^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/;

/** Web-to-Lead submissions in the last 24 hours, from this app's delivery records. */
export async function webToLeadCount(settings: Settings, now = new Date()): Promise<number> {
    const log = await DeliveryLog.connect(settings.storage, settings.DELIVERIES_TABLE);
    return (await log.completedSince('salesforce', 'submitted', new Date(now.getTime() - 86_400_000))).length;
}

/**
 * Web-to-Lead answers 200 to anything, so nothing is posted: the oid has an org id's form, and the
 * leads this app submitted in the last 24 hours are below the daily cap (a warning from 80 %).
 */
export async function checkWebToLead(settings: Settings): Promise<string> {
    const oid = settings.SALESFORCE_OID ?? '';
    if (!orgId.test(oid)) throw new CheckProblem('SALESFORCE_OID is not an organisation id (15 or 18 letters and digits starting with 00D): copy it from Setup, Company Information, Salesforce.com Organization ID.');
    const count = await webToLeadCount(settings);
    const cap = `${count} of the ${webToLeadDailyCap} a day Web-to-Lead takes were submitted in the last 24 hours`;
    if (count >= webToLeadDailyCap) throw new CheckProblem(`${cap}: Salesforce drops the rest; use the salesforce-api destination.`);
    if (count >= webToLeadDailyCap * warnShare) throw new CheckProblem(`${cap}: near the cap, beyond which Salesforce drops leads; consider the salesforce-api destination.`, 'warning');
    return `The oid has an organisation id's form; ${cap}.`;
}
