import { poisonedMessageEvent } from '../alert/alertEvent';
import { AlertStore } from '../alert/alertStore';
import { recordAlert, type AlertRecorder } from '../alert/recordAlert';
import { ConfigurationError, intakeSettings, settings, settingsSchema, type DestinationName, type Settings } from '../config/settings';
import { JsonQueue } from '../queue/jsonQueue';
import { leadMessageSchema, type LeadMessage } from '../queue/leadMessage';
import { lazy } from '../runtime/lazy';
import { AttentionIndex } from './attentionIndex';
import { DeliveryLog } from './deliveryLog';

/** `<LEADS_QUEUE>-<destination>`: each destination's own queue, so one that hangs delays only itself. */
export function destinationQueueName(leadsQueue: string, destination: DestinationName): string {
    return `${leadsQueue}-${destination}`;
}

export interface DeliveryServices {
    settings: Settings;
    log: DeliveryLog;
    /** The deliveries in trouble, for the console: written on the failure paths, cleared by a success after one. */
    attention: AttentionIndex;
    poison: JsonQueue;
    /** Where poisoned and long-failing deliveries are written for the operator's alert mail. */
    alerts?: AlertRecorder;
    queueFor(destination: DestinationName): Promise<JsonQueue>;
}

export const deliveryServices = lazy(async (): Promise<DeliveryServices> => {
    const s = settings();
    const [log, attention, poison, alerts] = await Promise.all([
        DeliveryLog.connect(s.storage, s.DELIVERIES_TABLE),
        AttentionIndex.connect(s.storage, s.DELIVERIES_TABLE),
        JsonQueue.connect(s.storage, `${s.LEADS_QUEUE}-poison`),
        AlertStore.connect(s.storage, s.ALERTS_TABLE),
    ]);
    const queues = new Map<DestinationName, Promise<JsonQueue>>();
    const queueFor = (destination: DestinationName): Promise<JsonQueue> => {
        let queue = queues.get(destination);
        if (!queue) {
            queue = JsonQueue.connect(s.storage, destinationQueueName(s.LEADS_QUEUE, destination));
            queues.set(destination, queue);
        }
        return queue;
    };
    return { settings: s, log, attention, poison, alerts, queueFor };
});

/**
 * The services, or undefined when a setting is wrong: then the message is moved to the poison
 * queue by the app itself, unexpiring, since retrying cannot fix a setting and the host's poison
 * copy would expire in 7 days.
 */
export async function servicesOrPoison(message: unknown, log: (message: string) => void): Promise<DeliveryServices | undefined> {
    try {
        return await deliveryServices();
    } catch (error) {
        if (!(error instanceof ConfigurationError)) throw error;
        const { storage, LEADS_QUEUE } = intakeSettings();
        // The settings did not read, but the alerts table's name alone may: a wrong setting elsewhere still alerts.
        const alertsTable = settingsSchema.shape.ALERTS_TABLE.safeParse(process.env.ALERTS_TABLE);
        const alerts = await AlertStore.connect(storage, alertsTable.success ? alertsTable.data : 'LeadAlerts');
        await recordAlert(alerts, poisonedMessageEvent(message, error.message), log);
        const poison = await JsonQueue.connect(storage, `${LEADS_QUEUE}-poison`);
        await poison.send(message);
        log(`${error.message} The lead was moved to ${poison.name}; fix the setting, then run "npm run leads -- replay-poison".`);
        return undefined;
    }
}

/** The lead in a message, or undefined when it is none: then the message is moved to the poison queue as it came. */
export async function leadOrPoison(svc: DeliveryServices, message: unknown, log: (message: string) => void): Promise<LeadMessage | undefined> {
    const parsed = leadMessageSchema.safeParse(message);
    if (parsed.success) return parsed.data;
    const problems = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`)
        .join('; ');
    log(`The message is not a lead: ${problems}. Moved it to ${svc.poison.name}.`);
    await recordAlert(svc.alerts, poisonedMessageEvent(message, `The message is not a lead: ${problems}.`), log);
    await svc.poison.send(message);
    return undefined;
}
