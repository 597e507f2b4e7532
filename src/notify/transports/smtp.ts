import type { Settings } from '../../config/settings';
import type { Mail, MailTransport } from './transport';

/** Sends through an SMTP server with nodemailer. */
export class SmtpTransport implements MailTransport {
    readonly name = 'smtp';

    constructor(private readonly settings: Pick<Settings, 'SMTP_HOST' | 'SMTP_PORT' | 'SMTP_SECURE' | 'SMTP_USER' | 'SMTP_PASSWORD'>) {}

    get description(): string {
        return `the SMTP server ${this.settings.SMTP_HOST ?? ''}:${this.settings.SMTP_PORT}`;
    }

    async send(mail: Mail): Promise<void> {
        const nodemailer = await import('nodemailer');
        const { SMTP_HOST, SMTP_PORT, SMTP_SECURE, SMTP_USER, SMTP_PASSWORD } = this.settings;
        const transport = nodemailer.createTransport({
            host: SMTP_HOST,
            port: SMTP_PORT,
            secure: SMTP_SECURE,
            auth: SMTP_USER ? { user: SMTP_USER, pass: SMTP_PASSWORD ?? '' } : undefined,
            connectionTimeout: 10_000,
            greetingTimeout: 10_000,
            socketTimeout: 30_000,
        });
        try {
            await transport.sendMail({ ...mail, to: [...mail.to] });
        } finally {
            transport.close();
        }
    }
}
