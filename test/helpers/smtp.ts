import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
    from: string;
    to: string[];
    raw: string;
}

/** When a test's hook runs for a message: before the server answers the end of its data (it keeps the message), or just after. */
export type MessagePoint = 'before answer' | 'after answer';

export interface TestSmtpServer {
    port: number;
    mails: ReceivedMail[];
    /** Every message that reached the end of its data, refused ones included: the sends the app made. */
    received: ReceivedMail[];
    /** Refuse the next `count` messages with a 451 (a temporary failure). */
    refuseNext(count: number): void;
    /** Refuse for good (554, as a spam filter does) every message whose raw text matches. */
    refuseMatching(pattern: RegExp | undefined): void;
    /** Refuse every message with this reply (a mail server that will not take the sender, say), until called with undefined. */
    refuseEvery(reply: { code: number; text: string } | undefined): void;
    /** Refuse these recipients at RCPT TO with 550 (no such mailbox). */
    refuseRecipients(addresses: readonly string[]): void;
    /** Accept the next message, but answer the end of its data only after this long. */
    answerNextAfter(ms: number): void;
    /** Runs `hook` once, for the next message accepted, at this point. */
    onNextMessage(point: MessagePoint, hook: () => void): void;
    close(): Promise<void>;
}

/** A real SMTP server on loopback that keeps every message it accepts, and refuses on purpose when told. */
export async function startSmtpServer(): Promise<TestSmtpServer> {
    const mails: ReceivedMail[] = [];
    const received: ReceivedMail[] = [];
    let refusals = 0;
    let spam: RegExp | undefined;
    let every: { code: number; text: string } | undefined;
    let refusedRecipients: readonly string[] = [];
    let answerDelay = 0;
    let next: { point: MessagePoint; hook: () => void } | undefined;
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
                const envelope = session.envelope;
                const mail = { from: envelope.mailFrom ? envelope.mailFrom.address : '', to: envelope.rcptTo.map((r) => r.address), raw };
                received.push(mail);
                if (refusals > 0) {
                    refusals--;
                    return callback(failure('Try again later', 451));
                }
                if (every) return callback(failure(every.text, every.code));
                if (spam?.test(raw)) return callback(failure('5.7.1 Message rejected as spam', 554));
                mails.push(mail);
                const delay = answerDelay;
                answerDelay = 0;
                const hook = next;
                next = undefined;
                if (hook?.point === 'before answer') hook.hook();
                setTimeout(() => {
                    callback();
                    if (hook?.point === 'after answer') hook.hook();
                }, delay);
            });
        },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    return {
        port,
        mails,
        received,
        refuseNext: (count) => {
            refusals = count;
        },
        refuseMatching: (pattern) => {
            spam = pattern;
        },
        refuseEvery: (reply) => {
            every = reply;
        },
        refuseRecipients: (addresses) => {
            refusedRecipients = addresses;
        },
        answerNextAfter: (ms) => {
            answerDelay = ms;
        },
        onNextMessage: (point, hook) => {
            next = { point, hook };
        },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
