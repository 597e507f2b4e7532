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
    close(): Promise<void>;
}

/** A real SMTP server on loopback that keeps every message it accepts. */
export async function startSmtpServer(): Promise<TestSmtpServer> {
    const mails: ReceivedMail[] = [];
    let refusals = 0;
    const server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onData(stream, session, callback) {
            const chunks: Buffer[] = [];
            stream.on('data', (chunk: Buffer) => chunks.push(chunk));
            stream.on('end', () => {
                if (refusals > 0) {
                    refusals--;
                    const error = Object.assign(new Error('Try again later'), { responseCode: 451 });
                    return callback(error);
                }
                const envelope = session.envelope;
                mails.push({
                    from: envelope.mailFrom ? envelope.mailFrom.address : '',
                    to: envelope.rcptTo.map((r) => r.address),
                    raw: Buffer.concat(chunks).toString('utf8'),
                });
                callback();
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
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
