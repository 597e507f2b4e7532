import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AcsTransport, acsSendsPerRun } from '../../src/notify/transports/acs';
import { OutboxTransport } from '../../src/notify/transports/outbox';
import { SmtpTransport } from '../../src/notify/transports/smtp';
import { MailRefusedError, type Mail } from '../../src/notify/transports/transport';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { json, startTestServer, type RecordedRequest } from '../helpers/httpServer';
import { parseMail } from '../helpers/mime';
import { tempDir } from '../helpers/processes';
import { startSmtpServer } from '../helpers/smtp';

const mail: Mail = {
    from: 'DoNotReply@contoso.azurecomm.net',
    to: ['ops@contoso.example', 'sales@contoso.example'],
    id: '6f1c3a52-8d4e-4b7a-9c1d-2e5f7a9b0c13',
    subject: '2 new marketplace leads — Contoso Analytics (2)',
    text: 'Two leads.\n',
    html: '<p>Two leads.</p>',
};

/** Checks an ACS request's HMAC-SHA256 signature as the service does. */
function signatureValid(request: RecordedRequest, key: string, host: string): boolean {
    const contentHash = createHash('sha256').update(request.body).digest('base64');
    if (request.headers['x-ms-content-sha256'] !== contentHash) return false;
    const date = String(request.headers['x-ms-date']);
    const toSign = `${request.method}\n${request.path}\n${date};${host};${contentHash}`;
    const signature = createHmac('sha256', Buffer.from(key, 'base64')).update(toSign).digest('base64');
    return request.headers.authorization === `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`;
}

describe('mail transports', () => {
    it('smtp: a refused log-in is not a refusal of the digest (it is retried, never split and set aside)', async () => {
        const server = new SMTPServer({
            disabledCommands: ['STARTTLS'],
            allowInsecureAuth: true,
            logger: false,
            onAuth: (_auth, _session, callback) => callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 })),
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        try {
            const { port } = server.server.address() as AddressInfo;
            const transport = new SmtpTransport({ SMTP_HOST: '127.0.0.1', SMTP_PORT: port, SMTP_SECURE: false, SMTP_USER: 'leads', SMTP_PASSWORD: 'rotated' });
            await assert.rejects(transport.send(mail), (error: unknown) => error instanceof MailRefusedError && !error.permanent && /535/.test(error.message));
        } finally {
            await new Promise<void>((resolve) => server.close(() => resolve()));
        }
    });

    it('smtp: reports the recipients it refused, and refuses the send (permanent for 5xx, not the message) when it refuses them all', async () => {
        const server = await startSmtpServer();
        try {
            const transport = new SmtpTransport({ SMTP_HOST: '127.0.0.1', SMTP_PORT: server.port, SMTP_SECURE: false, SMTP_USER: undefined, SMTP_PASSWORD: undefined });
            server.refuseRecipients(['sales@contoso.example']);
            assert.deepEqual(await transport.send(mail), { refused: [{ address: 'sales@contoso.example', reason: '550 5.1.1' }] });
            assert.deepEqual(
                server.mails.map((m) => m.to),
                [['ops@contoso.example']],
            );
            server.refuseRecipients(mail.to);
            await assert.rejects(
                transport.send(mail),
                (error: unknown) => error instanceof MailRefusedError && error.of === 'recipients' && error.permanent && error.refused.length === 2 && /"ops@contoso\.example": 550 5\.1\.1/.test(error.message),
            );
            server.refuseMatching(/Two leads/);
            server.refuseRecipients([]);
            await assert.rejects(transport.send(mail), (error: unknown) => error instanceof MailRefusedError && error.of === 'message' && error.permanent && /554 5\.7\.1/.test(error.message));
            server.refuseMatching(undefined);
            server.refuseEvery({ code: 554, text: '5.2.252 SendAsDenied; leads@contoso.example not allowed to send as leads@contoso.example' });
            await assert.rejects(
                transport.send(mail),
                (error: unknown) => error instanceof MailRefusedError && error.of === 'sending' && error.permanent && /554 5\.2\.252/.test(error.message) && !error.message.includes('SendAsDenied'),
                'refused for its sender, not for what it holds; the codes only',
            );
            server.refuseEvery(undefined);
            assert.equal(server.mails.length, 1);
        } finally {
            await server.close();
        }
    });

    it('acs: sends through the Email REST API (emails:send, then polls the operation) with a signed request', async () => {
        const key = Buffer.from('a test access key, not a secret').toString('base64');
        let polls = 0;
        const server = await startTestServer((request, res) => {
            const host = String(request.headers.host);
            if (!signatureValid(request, key, host)) return json(res, 401, { error: { code: 'Denied', message: 'Denied by the signature check.' } });
            if (request.method === 'POST' && request.path.startsWith('/emails:send?api-version=')) {
                const version = new URL(request.path, 'http://x').searchParams.get('api-version');
                return json(res, 202, { id: 'op-1', status: 'Running' }, { 'operation-location': `http://${host}/emails/operations/op-1?api-version=${version}`, 'retry-after': '0' });
            }
            if (request.method === 'GET' && request.path.startsWith('/emails/operations/op-1')) {
                polls++;
                return json(res, 200, { id: 'op-1', status: polls < 2 ? 'Running' : 'Succeeded' }, { 'retry-after': '0' });
            }
            json(res, 404, { error: { code: 'NotFound', message: 'Not found' } });
        });
        try {
            const transport = new AcsTransport({ ACS_CONNECTION_STRING: `endpoint=${server.url}/;accesskey=${key}`, ACS_ENDPOINT: undefined, NOTIFY_FROM: mail.from });
            assert.equal(transport.maxSendsPerRun, acsSendsPerRun.azureManagedDomain, 'an Azure-managed domain sends 10 mails an hour');
            await transport.send(mail);
            const send = server.requests.find((r) => r.method === 'POST');
            assert.deepEqual(JSON.parse(send?.body ?? ''), {
                senderAddress: 'DoNotReply@contoso.azurecomm.net',
                content: { subject: mail.subject, plainText: mail.text, html: mail.html },
                recipients: { to: [{ address: 'ops@contoso.example' }, { address: 'sales@contoso.example' }] },
                headers: { 'Message-ID': `<${mail.id}@marketplace-leads>` },
            });
            assert.equal(send?.headers['operation-id'], mail.id, 'the digest id is the operation id: ACS does not send one operation twice');
            assert.ok(polls >= 2);
        } finally {
            await server.close();
        }
    });

    it('acs: fails when the operation does', async () => {
        const server = await startTestServer((request, res) => {
            if (request.method === 'POST') return json(res, 202, { id: 'op-2', status: 'Running' }, { 'operation-location': `${server.url}/emails/operations/op-2?api-version=2023-03-31`, 'retry-after': '0' });
            json(res, 200, { id: 'op-2', status: 'Failed', error: { code: 'InvalidSender', message: 'The sender domain is not linked.' } });
        });
        try {
            const transport = new AcsTransport({ ACS_CONNECTION_STRING: `endpoint=${server.url}/;accesskey=${Buffer.from('k').toString('base64')}`, ACS_ENDPOINT: undefined, NOTIFY_FROM: 'leads@contoso.example' });
            assert.equal(transport.maxSendsPerRun, acsSendsPerRun.customDomain);
            await assert.rejects(transport.send(mail), /sender domain|Failed/);
        } finally {
            await server.close();
        }
    });

    it('outbox: writes each message as a complete .eml file', async () => {
        const folder = join(tempDir('outbox'), 'mail');
        await new OutboxTransport(folder).send(mail);
        const files = readdirSync(folder);
        assert.equal(files.length, 1);
        assert.match(files[0] ?? '', /\.eml$/);
        const parsed = parseMail(readFileSync(join(folder, files[0] ?? ''), 'utf8'));
        assert.equal(parsed.subject, mail.subject);
        assert.equal(parsed.headers.get('to'), 'ops@contoso.example, sales@contoso.example');
        assert.equal(parsed.text.replace(/\r\n/g, '\n'), mail.text);
        assert.equal(parsed.html, mail.html);
    });
});
