/** The lead every part of the bench posts or stores: the documented marketplace shape, made distinct by `i`. */
export function sampleLead(i: number): Record<string, unknown> {
    return {
        UserDetails: { FirstName: 'Some', LastName: `One${i}`, Email: `someone${i}@contoso.com`, Phone: '16175555555', Country: 'USA', Company: 'Contoso', Title: 'Esquire' },
        LeadSource: 'AzureMarketplace-INS|contoso.contoso-analytics-byol',
        ActionCode: 'INS',
        OfferTitle: 'Test Microsoft',
        Description: 'Test run through Power Automate',
    };
}
