import type { Settings } from '../config/settings';
import { within } from '../deliver/http';
import { failureReason } from '../notify/transports/transport';
import { CheckProblem, type CheckOptions } from './checkResult';

/** `endpoint=https://….communication.azure.com/;accesskey=…`, in either order. */
function connectionStringProblem(text: string): string | undefined {
    const parts = new Map(text.split(';').flatMap((part) => (part.includes('=') ? [[part.slice(0, part.indexOf('=')).trim().toLowerCase(), part.slice(part.indexOf('=') + 1).trim()] as const] : [])));
    if (!URL.canParse(parts.get('endpoint') ?? '')) return "ACS_CONNECTION_STRING has no endpoint=https://… part: copy it from the resource's Keys page.";
    if (!/^[A-Za-z0-9+/]+=*$/.test(parts.get('accesskey') ?? '')) return "ACS_CONNECTION_STRING has no accesskey=… part: copy it from the resource's Keys page.";
    return undefined;
}

async function checkSmtp(settings: Settings, timeoutMs: number): Promise<string> {
    const { SmtpTransport } = await import('../notify/transports/smtp');
    try {
        await new SmtpTransport(settings, { connectMs: timeoutMs, replyMs: timeoutMs, totalMs: timeoutMs }).verify();
    } catch (error) {
        const code = (error as { code?: unknown }).code;
        const fix = code === 'EAUTH' || /\b53[45]\b/.test(failureReason(error)) ? 'check SMTP_USER and SMTP_PASSWORD' : 'check SMTP_HOST, SMTP_PORT and SMTP_SECURE';
        throw new CheckProblem(`${failureReason(error).replace(/\.$/, '')}: ${fix}.`);
    }
    return `The SMTP server ${settings.SMTP_HOST ?? ''}:${settings.SMTP_PORT} took the connection${settings.SMTP_USER ? ' and the log-in' : ''}; nothing was sent.`;
}

/** With a connection string its form; with an endpoint, a token of the app's identity for Communication Services. */
async function checkAcs(settings: Settings, timeoutMs: number, signal: AbortSignal | undefined): Promise<string> {
    if (settings.ACS_CONNECTION_STRING) {
        const problem = connectionStringProblem(settings.ACS_CONNECTION_STRING);
        if (problem) throw new CheckProblem(problem);
        return 'ACS_CONNECTION_STRING has an endpoint and an access key; nothing was sent.';
    }
    const { DefaultAzureCredential } = await import('@azure/identity');
    try {
        await new DefaultAzureCredential().getToken('https://communication.azure.com/.default', { abortSignal: within(AbortSignal.timeout(timeoutMs), signal) });
    } catch (error) {
        throw new CheckProblem(
            `The app's identity got no token for Azure Communication Services (${error instanceof Error ? error.name : 'an error'}): check the app's managed identity (AZURE_CLIENT_ID names a user-assigned one). Sending needs, besides, the Communication and Email Service Owner role on the resource at ACS_ENDPOINT, which the deployment assigns.`,
        );
    }
    return "The app's identity got a token for Azure Communication Services; nothing was sent.";
}

/** The digests' and alerts' transport: SMTP connects and logs in without sending; ACS has what it signs in with. */
export async function checkMail(settings: Settings, { signal }: CheckOptions): Promise<string> {
    const timeoutMs = settings.DELIVERY_TIMEOUT_SECONDS * 1000;
    switch (settings.EMAIL_TRANSPORT) {
        case 'smtp':
            return checkSmtp(settings, timeoutMs);
        case 'acs':
            return checkAcs(settings, timeoutMs, signal);
        case 'outbox':
            return Promise.resolve(`Mail is written as files to ${settings.OUTBOX_DIR}: no server to check.`);
    }
}
