import type { EmailClient } from '@azure/communication-email';
import type { Settings } from '../../config/settings';
import { lazy } from '../../runtime/lazy';
import { messageIdFor, type Mail, type MailTransport, type SendReport } from './transport';

/** How long one send, polls included, may take. */
const acsSendTimeoutMs = 100_000;
/** Each status poll counts against its own limit (20 an hour on an Azure-managed domain): a digest is not urgent to the second. */
const acsPollIntervalMs = 5_000;

/**
 * Sends per run, from the default ACS e-mail limits per subscription
 * (learn.microsoft.com/azure/communication-services/concepts/service-limits, "Email", 2026):
 * an Azure-managed domain (…azurecomm.net) sends 5 a minute and 10 an hour, a custom domain 30 a
 * minute and 100 an hour. At the default schedule (12 runs an hour) these stay within the hour's
 * limit for a custom domain; on a managed domain one digest a run can still pass 10 an hour, and the
 * 429 that follows is a failed send, retried by the next run with the same operation id.
 */
export const acsSendsPerRun = { azureManagedDomain: 1, customDomain: 8 } as const;

/** Azure-managed domains are subdomains of azurecomm.net; any other sender domain is the publisher's own. */
export function isAzureManagedDomain(senderAddress: string): boolean {
    return /\.azurecomm\.net$/i.test(senderAddress.split('@').pop() ?? '');
}

/**
 * Sends through Azure Communication Services Email: with ACS_CONNECTION_STRING, or with the app's
 * managed identity at ACS_ENDPOINT. Its rate limits are why the app sends one digest per run, not
 * one mail per lead, and why a run sends only a few.
 */
export class AcsTransport implements MailTransport {
    readonly name = 'acs';
    readonly maxSendMs = acsSendTimeoutMs;
    readonly maxSendsPerRun: number;
    private readonly connect = lazy(async (): Promise<EmailClient> => {
        const { EmailClient } = await import('@azure/communication-email');
        const { ACS_CONNECTION_STRING, ACS_ENDPOINT } = this.settings;
        // Plain HTTP only ever names a local stand-in; Azure's endpoints are HTTPS.
        const options = { allowInsecureConnection: /endpoint=http:|^http:/i.test(ACS_CONNECTION_STRING ?? ACS_ENDPOINT ?? '') };
        if (ACS_CONNECTION_STRING) return new EmailClient(ACS_CONNECTION_STRING, options);
        const { DefaultAzureCredential } = await import('@azure/identity');
        return new EmailClient(ACS_ENDPOINT ?? '', new DefaultAzureCredential(), options);
    });

    constructor(private readonly settings: Pick<Settings, 'ACS_ENDPOINT' | 'ACS_CONNECTION_STRING' | 'NOTIFY_FROM'>) {
        this.maxSendsPerRun = isAzureManagedDomain(settings.NOTIFY_FROM) ? acsSendsPerRun.azureManagedDomain : acsSendsPerRun.customDomain;
    }

    get description(): string {
        return `Azure Communication Services ${this.settings.ACS_ENDPOINT ?? '(connection string)'}`;
    }

    async send(mail: Mail): Promise<SendReport> {
        const client = await this.connect();
        const abortSignal = AbortSignal.timeout(acsSendTimeoutMs);
        const poller = await client.beginSend(
            {
                senderAddress: mail.from,
                recipients: { to: mail.to.map((address) => ({ address })) },
                content: { subject: mail.subject, plainText: mail.text, html: mail.html },
                // ACS keeps a valid Message-ID it is given (and drops an invalid one rather than fail the send).
                headers: { 'Message-ID': messageIdFor(mail) },
            },
            // ACS takes the same operation id as the same send: a digest sent again after a crash is not mailed twice.
            { operationId: mail.id, updateIntervalInMs: acsPollIntervalMs, abortSignal },
        );
        const result = await poller.pollUntilDone({ abortSignal });
        if (result.status !== 'Succeeded') throw new Error(`Azure Communication Services did not send the mail: ${result.status}${result.error?.code ? ` (${result.error.code})` : ''}.`);
        return { refused: [] };
    }
}
