export type PiiMode = 'full' | 'masked' | 'none';

/** `jane.doe@contoso.com` → `j***@contoso.com`. */
export function maskEmail(email: string): string {
    const at = email.lastIndexOf('@');
    if (at <= 0) return email ? '***' : '';
    return `${email[0]}***${email.slice(at)}`;
}

/** Only the last two digits stay: `+1 617 555 5555` → `*********55`. */
export function maskPhone(phone: string): string {
    const digits = phone.replace(/\D/g, '');
    if (digits.length <= 2) return digits ? '**' : '';
    return `${'*'.repeat(digits.length - 2)}${digits.slice(-2)}`;
}

/** `Jane Doe` → `Jane D.`: enough to greet, not enough to look someone up. */
export function maskName(firstName: string, lastName: string): string {
    return [firstName, lastName ? `${lastName[0]}.` : ''].filter(Boolean).join(' ');
}

export interface Contact {
    name: string;
    email: string;
    phone: string;
}

/** The contact details a digest shows at a given NOTIFY_PII level. */
export function contactFor(mode: PiiMode, details: { firstName: string; lastName: string; email: string; phone: string }): Contact {
    if (mode === 'none') return { name: '', email: '', phone: '' };
    if (mode === 'masked') return { name: maskName(details.firstName, details.lastName), email: maskEmail(details.email), phone: maskPhone(details.phone) };
    return { name: [details.firstName, details.lastName].filter(Boolean).join(' '), email: details.email, phone: details.phone };
}
