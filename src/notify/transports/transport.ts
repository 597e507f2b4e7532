/** One e-mail: a digest to the publisher's contacts. */
export interface Mail {
    from: string;
    to: readonly string[];
    subject: string;
    text: string;
    html: string;
    /** The same digest sent again (after a crash, or an answer that came too late) keeps its Message-ID and ACS operation id. */
    id: string;
}

/** What the mail service said of each recipient it refused; the others have the mail. */
export interface SendReport {
    refused: { address: string; reason: string }[];
}

/** Sends mail; resolves only once the mail service has accepted the message for at least one recipient. */
export interface MailTransport {
    readonly name: string;
    /** Where mail goes, for the start-up message: a folder, a server, an endpoint. */
    readonly description: string;
    /** The longest one send may take before it fails: a run starts no send its lease cannot outlast. */
    readonly maxSendMs: number;
    /** The most sends one run makes through it, refused ones included: the service's rate limits. */
    readonly maxSendsPerRun: number;
    send(mail: Mail): Promise<SendReport>;
}

/** What the mail service refused: the message itself, every recipient, or the session (greeting, log-in, sender). */
export type RefusalOf = 'message' | 'recipients' | 'session';

/**
 * The mail service refused the mail. `permanent` (an SMTP 5xx such as "554 rejected as spam", or
 * "550 no such mailbox" for every recipient): sending the same mail again will not help. Only a
 * permanent refusal of the message says something in it (a lead) is refused.
 */
export class MailRefusedError extends Error {
    constructor(
        message: string,
        readonly permanent: boolean,
        readonly of: RefusalOf = 'message',
        readonly refused: SendReport['refused'] = [],
    ) {
        super(message);
        this.name = 'MailRefusedError';
    }
}

/** The Message-ID of a digest: the same for every send of it, so mail clients can drop a repeat. */
export function messageIdFor(mail: Mail): string {
    return `<${mail.id}@marketplace-leads>`;
}

/** "554 5.7.1": the reply code and enhanced status code of an SMTP reply, never its text (which may quote the message). */
export function smtpCodes(response: unknown, responseCode: unknown): string {
    const text = typeof response === 'string' ? response : '';
    const match = /^(\d{3})[ -](\d\.\d{1,3}\.\d{1,3})?/.exec(text);
    const code = match?.[1] ?? (typeof responseCode === 'number' ? String(responseCode) : '');
    return [code, match?.[2]].filter(Boolean).join(' ') || 'no reply code';
}
