import { headerKey } from './columns';

/** Partner Center's words for a lead's source, as the LeadSource codes the marketplace posts ("Appsource" is already one, in another casing). */
const sourceCodes: ReadonlyMap<string, string> = new Map([
    ['azuremarketplace', 'AzureMarketplace'],
    ['azureportal', 'AzurePortal'],
]);

/**
 * Calls to action as Partner Center names them, as the action codes the marketplace posts: Contact
 * me is a partner-led trial (PLT), Get it now and a free trial an install (INS), a test drive
 * StartTestDrive, and a purchase in the Azure portal (Create, Subscribe) Create.
 */
const actionCodes: ReadonlyMap<string, string> = new Map([
    ['contactme', 'PLT'],
    ['getitnow', 'INS'],
    ['freetrial', 'INS'],
    ['testdrive', 'StartTestDrive'],
    ['subscribe', 'Create'],
]);

/** A source and an action as codes, where Partner Center gave them in words; codes, and words it does not know, as they came. */
export function asCodes(source: string, action: string): { source: string; action: string } {
    return { source: sourceCodes.get(headerKey(source)) ?? source, action: actionCodes.get(headerKey(action)) ?? action };
}
