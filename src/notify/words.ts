const sourceWords: Record<string, string> = {
    azuremarketplace: 'Azure Marketplace',
    azureportal: 'Azure portal',
    'appsource (spza)': 'AppSource',
    appsource: 'AppSource',
    testdrive: 'Test Drive',
};

const actionWords: Record<string, string> = {
    ins: 'installed',
    plt: 'contact me',
    dnc: 'do not contact',
    create: 'purchased',
    starttestdrive: 'started a test drive',
};

/** "Azure portal — purchased (Create)", "AppSource — contact me (PLT)"; unknown codes as they came. */
export function originInWords(source: string, action: string): string {
    const where = /^MSFT_TEST/i.test(source) ? 'Marketplace test lead' : (sourceWords[source.toLowerCase()] ?? (source || 'Unknown source'));
    if (!action || /^MSFT_TEST/i.test(action)) return where;
    const what = actionWords[action.toLowerCase()];
    return what ? `${where} — ${what} (${action})` : `${where} — ${action}`;
}
