import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
    from: string;
    to: string[];
    raw: string;
}

export interface TestSmtpServer {
    port: number;
    mails: ReceivedMail[];
    /** Refuse the next `count` messages with a 451 (a temporary failure). */
    refuseNext(count: number): void;
    /** Refuse for good (554, as a spam filter does) every message whose raw text matches. */
    refuseMatching(pattern: RegExp | undefined): void;
    /** Refuse these recipients at RCPT TO with 550 (no such mailbox). */
    refuseRecipients(addresses: readonly string[]): void;
    /** Accept the next message, but answer the end of its data only after this long. */
    answerNextAfter(ms: number): void;
    close(): Promise<void>;
}

/** A real SMTP server on loopback that keeps every message it accepts, and refuses on purpose when told. */
export async function startSmtpServer(): Promise<TestSmtpServer> {
    const mails: ReceivedMail[] = [];
    let refusals = 0;
    let spam: RegExp | undefined;
    let refusedRecipients: readonly string[] = [];
    let answerDelay = 0;
    const failure = (message: string, responseCode: number) => Object.assign(new Error(message), { responseCode });
    const server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onRcptTo(address, _session, callback) {
            if (refusedRecipients.includes(address.address)) {
                callback(failure('5.1.1 No such mailbox here', 550));
                return;
            }
            callback();
        },
        onData(stream, session, callback) {
            const chunks: Buffer[] = [];
            stream.on('data', (chunk: Buffer) => chunks.push(chunk));
            stream.on('end', () => {
                const raw = Buffer.concat(chunks).toString('utf8');
                if (refusals > 0) {
                    refusals--;
                    return callback(failure('Try again later', 451));
                }
                if (spam?.test(raw)) return callback(failure('5.7.1 Message rejected as spam', 554));
                const envelope = session.envelope;
                mails.push({ from: envelope.mailFrom ? envelope.mailFrom.address : '', to: envelope.rcptTo.map((r) => r.address), raw });
                const delay = answerDelay;
                answerDelay = 0;
                setTimeout(() => callback(), delay);
            });
        },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    return {
        port,
        mails,
        refuseNext: (count) => {
            refusals = count;
        },
        refuseMatching: (pattern) => {
            spam = pattern;
        },
        refuseRecipients: (addresses) => {
            refusedRecipients = addresses;
        },
        answerNextAfter: (ms) => {
            answerDelay = ms;
        },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
