import type { Settings } from '../../config/settings';
import { MailRefusedError, messageIdFor, smtpCodes, type Mail, type MailTransport, type SendReport } from './transport';

/**
 * RFC 5321 §4.5.3.2: a client should wait 10 minutes for the reply to the end of the message. A
 * server that accepts slowly is waited for, rather than given up on and mailed twice.
 */
export const smtpReplyTimeoutMs = 10 * 60_000;

interface SmtpError {
    code?: string;
    responseCode?: number;
    response?: string;
    rejected?: string[];
}

/** Sends through an SMTP server with nodemailer. */
export class SmtpTransport implements MailTransport {
    readonly name = 'smtp';

    constructor(private readonly settings: Pick<Settings, 'SMTP_HOST' | 'SMTP_PORT' | 'SMTP_SECURE' | 'SMTP_USER' | 'SMTP_PASSWORD'>) {}

    get description(): string {
        return `the SMTP server ${this.settings.SMTP_HOST ?? ''}:${this.settings.SMTP_PORT}`;
    }

    async send(mail: Mail): Promise<SendReport> {
        const nodemailer = await import('nodemailer');
        const { SMTP_HOST, SMTP_PORT, SMTP_SECURE, SMTP_USER, SMTP_PASSWORD } = this.settings;
        const transport = nodemailer.createTransport({
            host: SMTP_HOST,
            port: SMTP_PORT,
            secure: SMTP_SECURE,
            auth: SMTP_USER ? { user: SMTP_USER, pass: SMTP_PASSWORD ?? '' } : undefined,
            connectionTimeout: 30_000,
            greetingTimeout: 30_000,
            socketTimeout: smtpReplyTimeoutMs,
        });
        try {
            const info = await transport.sendMail({ from: mail.from, to: [...mail.to], subject: mail.subject, text: mail.text, html: mail.html, messageId: messageIdFor(mail) });
            const errors = (info as { rejectedErrors?: SmtpError[] }).rejectedErrors ?? [];
            return { refused: info.rejected.map((address, i) => ({ address, reason: smtpCodes(errors[i]?.response, errors[i]?.responseCode) })) };
        } catch (error) {
            const { code, responseCode, response } = error as SmtpError;
            if (responseCode === undefined) throw error;
            // Only a refusal of the message itself (at its data) says something in it is refused; a failed
            // log-in, greeting or recipient list is about the server or the settings, and is retried next run.
            const aboutMessage = code === 'EMESSAGE';
            throw new MailRefusedError(`The SMTP server refused the ${aboutMessage ? 'message' : 'connection or recipients'} (${smtpCodes(response, responseCode)}).`, aboutMessage && responseCode >= 500);
        } finally {
            transport.close();
        }
    }
}
