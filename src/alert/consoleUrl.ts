import type { Settings } from '../config/settings';

/**
 * The console's address for links in alerts: CONSOLE_URL; in Azure, the app's own host name
 * (App Service sets WEBSITE_HOSTNAME); locally, the local host's port.
 */
export function consoleUrl(settings: Pick<Settings, 'CONSOLE_URL'>, env: Record<string, string | undefined>): string {
    if (settings.CONSOLE_URL) return settings.CONSOLE_URL;
    const hostname = env.WEBSITE_HOSTNAME?.trim();
    if (hostname) return `https://${hostname}/api/console`;
    return `http://localhost:${env.PORT?.trim() || '7071'}/api/console`;
}

/** A lead's page in the console. */
export function leadPageUrl(consoleUrl: string, leadId: string): string {
    return `${consoleUrl.replace(/\/+$/, '')}/view/${encodeURIComponent(leadId)}`;
}
