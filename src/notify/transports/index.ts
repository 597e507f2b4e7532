import type { Settings } from '../../config/settings';
import type { MailTransport } from './transport';

/** The transport EMAIL_TRANSPORT names; its mail library is loaded on first send. */
export async function transportFor(settings: Settings): Promise<MailTransport> {
    switch (settings.EMAIL_TRANSPORT) {
        case 'smtp':
            return new (await import('./smtp')).SmtpTransport(settings);
        case 'acs':
            return new (await import('./acs')).AcsTransport(settings);
        case 'outbox':
            return new (await import('./outbox')).OutboxTransport(settings.OUTBOX_DIR);
    }
}
