import type { Settings } from '../../config/settings';
import { MailRefusedError, messageIdFor, refusesSending, smtpCodes, type Mail, type MailTransport, type SendReport } from './transport';

/**
 * RFC 5321 §4.5.3.2: a client should wait 10 minutes for the reply to the end of the message. A
 * server that accepts slowly is waited for, rather than given up on and mailed twice.
 */
export const smtpReplyTimeoutMs = 10 * 60_000;

/** How long the SMTP client waits; tests pass shorter ones. */
export interface SmtpTimeouts {
    /** For the connection and the server's greeting. */
    connectMs: number;
    /** For any one reply, the one to the end of the message included. */
    replyMs: number;
    /** For the whole send: a server that answers each command just in time cannot hold a run past its lease. */
    totalMs: number;
}

export const defaultSmtpTimeouts: SmtpTimeouts = { connectMs: 30_000, replyMs: smtpReplyTimeoutMs, totalMs: smtpReplyTimeoutMs + 2 * 60_000 };

interface SmtpError {
    code?: string;
    responseCode?: number;
    response?: string;
    rejected?: string[];
    rejectedErrors?: SmtpError[];
}

function refusedIn(rejected: readonly unknown[], errors: readonly SmtpError[]): SendReport['refused'] {
    return rejected.map((address, i) => ({ address: String(address), reason: smtpCodes(errors[i]?.response, errors[i]?.responseCode) }));
}

/** The typed refusal for an SMTP error with a reply code; other errors (network, time-outs) stay as they are. */
function refusal(error: SmtpError): MailRefusedError | undefined {
    const { code, responseCode, response } = error;
    if (responseCode === undefined) return undefined;
    const codes = smtpCodes(response, responseCode);
    if (code === 'EMESSAGE' && responseCode >= 500 && refusesSending(response ?? '')) {
        return new MailRefusedError(`The SMTP server refused the message for its sender, account or server, not for what it holds (${codes}).`, true, 'sending');
    }
    if (code === 'EMESSAGE') return new MailRefusedError(`The SMTP server refused the message (${codes}).`, responseCode >= 500, 'message');
    if (code === 'EENVELOPE' && error.rejected?.length) {
        const refused = refusedIn(error.rejected, error.rejectedErrors ?? []);
        const permanent = (error.rejectedErrors ?? []).every((e) => (e.responseCode ?? 0) >= 500);
        return new MailRefusedError(`The SMTP server refused every recipient (${refused.map((r) => `"${r.address}": ${r.reason}`).join(', ')}).`, permanent, 'recipients', refused);
    }
    // A failed log-in, greeting or sender is about the server or the settings, and is retried next run.
    return new MailRefusedError(`The SMTP server refused the connection or the sender (${codes}).`, false, 'session');
}

/** Sends through an SMTP server with nodemailer. */
export class SmtpTransport implements MailTransport {
    readonly name = 'smtp';
    readonly maxSendMs: number;
    /** Splitting a refused digest to find the lead refused costs a few sends. */
    readonly maxSendsPerRun = 25;

    constructor(
        private readonly settings: Pick<Settings, 'SMTP_HOST' | 'SMTP_PORT' | 'SMTP_SECURE' | 'SMTP_USER' | 'SMTP_PASSWORD'>,
        private readonly timeouts: SmtpTimeouts = defaultSmtpTimeouts,
    ) {
        this.maxSendMs = timeouts.totalMs;
    }

    get description(): string {
        return `the SMTP server ${this.settings.SMTP_HOST ?? ''}:${this.settings.SMTP_PORT}`;
    }

    private async connect(replyMs = this.timeouts.replyMs) {
        const nodemailer = await import('nodemailer');
        const { SMTP_HOST, SMTP_PORT, SMTP_SECURE, SMTP_USER, SMTP_PASSWORD } = this.settings;
        const { connectMs } = this.timeouts;
        return nodemailer.createTransport({
            host: SMTP_HOST,
            port: SMTP_PORT,
            secure: SMTP_SECURE,
            auth: SMTP_USER ? { user: SMTP_USER, pass: SMTP_PASSWORD ?? '' } : undefined,
            connectionTimeout: connectMs,
            greetingTimeout: connectMs,
            socketTimeout: replyMs,
        });
    }

    /** Connects, says hello and logs in, sending nothing (nodemailer's verify); a refusal becomes a MailRefusedError with its codes. */
    async verify(): Promise<void> {
        const transport = await this.connect(this.timeouts.connectMs);
        try {
            await transport.verify();
        } catch (error) {
            throw refusal(error as SmtpError) ?? error;
        } finally {
            transport.close();
        }
    }

    async send(mail: Mail): Promise<SendReport> {
        const { totalMs } = this.timeouts;
        const transport = await this.connect();
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`The SMTP server did not finish the send within ${totalMs} ms.`)), totalMs);
        });
        try {
            const sending = transport.sendMail({ from: mail.from, to: [...mail.to], subject: mail.subject, text: mail.text, html: mail.html, messageId: messageIdFor(mail) });
            const info = await Promise.race([sending, deadline]);
            return { refused: refusedIn(info.rejected, (info as { rejectedErrors?: SmtpError[] }).rejectedErrors ?? []) };
        } catch (error) {
            throw refusal(error as SmtpError) ?? error;
        } finally {
            clearTimeout(timer);
            transport.close();
        }
    }
}
