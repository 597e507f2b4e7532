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

/**
 * What the mail service refused: the message itself, the message for its sender, account or server
 * (`sending`: see refusesSending), every recipient, or the session (greeting, log-in, sender).
 */
export type RefusalOf = 'message' | 'sending' | 'recipients' | 'session';

/**
 * The mail service refused the mail. `permanent` (an SMTP 5xx such as "554 rejected as spam", or
 * "550 no such mailbox" for every recipient): sending the same mail again will not help. Only a
 * permanent refusal of the message may say something in it (a lead) is refused.
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

/** Enhanced status codes (RFC 3463) that refuse a message for what it holds: its content or media, a policy on it (spam), its size. */
const aboutTheMessage = /^\d\.(?:6\.\d+|7\.1|2\.3|3\.4)$/;
/** Words a server uses when it will not take mail from this sender or account at all, whatever the code. */
const aboutTheSending =
    /send ?as|not authenticated|authentication (?:is )?required|must (?:first )?authenticate|unable to relay|relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed))|sender (?:address )?(?:rejected|denied|not allowed)/i;

/**
 * Whether a permanent refusal of a message is about the sending rather than the message: the
 * sender, the account, the tenant or the mail system (Exchange's 5.2.252 SendAsDenied, 5.7.57
 * not authenticated, 5.7.60, 5.7.708, 5.7.750, address, mailbox, system, network and protocol
 * codes), which refuse every message alike, so that splitting the digest would only set every lead
 * aside. Content codes (X.6.x), a policy refusal (X.7.1, as spam filters answer) and size limits
 * (X.2.3, X.3.4) are about the message, and so is a reply without an enhanced code unless its words
 * say otherwise.
 */
export function refusesSending(reply: string): boolean {
    if (aboutTheSending.test(reply)) return true;
    const enhanced = /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(reply)?.[1];
    return enhanced !== undefined && !aboutTheMessage.test(enhanced);
}

/** "554 5.7.1": the reply code and enhanced status code of an SMTP reply, never its text (which may quote the message). */
export function smtpCodes(response: unknown, responseCode: unknown): string {
    const text = typeof response === 'string' ? response : '';
    const match = /^(\d{3})[ -](\d\.\d{1,3}\.\d{1,3})?/.exec(text);
    const code = match?.[1] ?? (typeof responseCode === 'number' ? String(responseCode) : '');
    return [code, match?.[2]].filter(Boolean).join(' ') || 'no reply code';
}

/** Why a send failed, as the notify and alert state keep it for the console: the transport's own words, which carry reply and error codes, never a mail's content. */
export function failureReason(error: unknown): string {
    return error instanceof Error ? error.message.replace(/\s+/g, ' ').trim().slice(0, 300) : 'The send failed.';
}
