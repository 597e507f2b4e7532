import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { messageIdFor, type Mail, type MailTransport, type SendReport } from './transport';

/** Writes each message as an .eml file (real MIME, as an SMTP server would receive it) into a folder. */
export class OutboxTransport implements MailTransport {
    readonly name = 'outbox';
    readonly maxSendMs = 60_000;
    readonly maxSendsPerRun = 25;
    readonly folder: string;

    constructor(folder: string) {
        this.folder = resolve(folder);
    }

    get description(): string {
        return `the outbox folder ${this.folder}`;
    }

    async send(mail: Mail): Promise<SendReport> {
        const nodemailer = await import('nodemailer');
        const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
        const info = await composer.sendMail({ from: mail.from, to: [...mail.to], subject: mail.subject, text: mail.text, html: mail.html, messageId: messageIdFor(mail) });
        const message = info.message as Buffer;
        await mkdir(this.folder, { recursive: true });
        const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}.eml`;
        // Written under a temporary name first, so a reader never sees half a message.
        const partial = join(this.folder, `.${name}.partial`);
        await writeFile(partial, message);
        await rename(partial, join(this.folder, name));
        return { refused: [] };
    }
}
