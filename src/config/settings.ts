import { z } from 'zod';
import { storageConnection, type StorageConnection } from '../storage/connection';

/** Empty settings count as unset, so a blank line in local.settings.json falls back to the default. */
const blankAsUnset = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : value);

function setting<T extends z.ZodType>(schema: T) {
    return z.preprocess(blankAsUnset, schema);
}

// Each destination has "<name>-<destination>" and the host may add "-poison" to it: the longest,
// "<name>-salesforce-poison", must also fit Azure's 63-character limit.
const queueName = z
    .string()
    .trim()
    .regex(/^(?!.*--)[a-z0-9][a-z0-9-]{1,43}[a-z0-9]$/, {
        message: 'a queue name has 3 to 45 lower-case letters, digits and single hyphens, and starts and ends with a letter or digit',
    });

const tableName = z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, {
        message: 'a table name has 3 to 63 letters and digits and starts with a letter',
    });

/** Updates of leads go to "<name>Updates", which must fit the same 63 characters. */
const leadsTableName = z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,55}$/, {
        message: 'the leads table name has 3 to 56 letters and digits (the app adds "Updates" for a second table) and starts with a letter',
    });

export const destinationNames = ['table', 'webhook', 'dynamics', 'salesforce', 'marketo', 'hubspot'] as const;
export type DestinationName = (typeof destinationNames)[number];

const destinationList = z
    .string()
    .transform((text) => [...new Set(text.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean))])
    .pipe(z.array(z.enum(destinationNames, { message: `a destination is one of ${destinationNames.join(', ')}` })));

const routeSchema = z
    .object({
        offer: z.string().optional(),
        action: z.string().optional(),
        destinations: z.array(z.string()).transform((names) => names.join(',')).pipe(destinationList),
    })
    .refine((route) => route.offer !== undefined || route.action !== undefined, { message: 'each route names an offer, an action or both' });

/** `LEAD_ROUTES`: a JSON array of `{"offer"?, "action"?, "destinations": [...]}`, first match wins. */
const routes = z.string().transform((text, ctx) => {
    try {
        return JSON.parse(text) as unknown;
    } catch {
        ctx.addIssue({ code: 'custom', message: 'it is not valid JSON' });
        return z.NEVER;
    }
}).pipe(z.array(routeSchema));

/** A bare e-mail address: no display name, no CR/LF, nothing a mail header could be bent with. */
const address = z.string().trim().regex(/^[^\s@<>()",;:\\]+@[^\s@<>()",;:\\]+$/, { message: 'expected an e-mail address' });

/** Addresses separated by semicolons, as Partner Center's "Contact email" field takes them; spaces are fine. */
const addressList = z
    .string()
    .transform((text) => text.split(/[;,]/).map((part) => part.trim()).filter(Boolean))
    .pipe(z.array(address));

const flag = z.enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'use true or false' }).transform((v) => ['true', '1', 'yes'].includes(v));
const seconds = (fallback: number) => z.coerce.number().positive().default(fallback);
const url = z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' });

export const settingsSchema = z.object({
    /** A connection string; absent in Azure, where the identity-based settings below are used. */
    AzureWebJobsStorage: setting(z.string().trim().optional()),
    AzureWebJobsStorage__accountName: setting(z.string().optional()),
    AzureWebJobsStorage__queueServiceUri: setting(url.optional()),
    AzureWebJobsStorage__tableServiceUri: setting(url.optional()),
    AzureWebJobsStorage__blobServiceUri: setting(url.optional()),
    AzureWebJobsStorage__credential: setting(z.string().optional()),
    AzureWebJobsStorage__clientId: setting(z.string().optional()),
    LEADS_QUEUE: setting(queueName.default('leads')),
    LEADS_TABLE: setting(leadsTableName.default('MarketplaceLeads')),
    ANONYMOUS_LEADS_TABLE: setting(tableName.default('LeadAnonymousPosts')),

    LEAD_DESTINATIONS: setting(destinationList.default(['table'])),
    LEAD_ROUTES: setting(routes.default([])),
    DNC_DESTINATIONS: setting(destinationList.default(['table'])),
    DELIVER_TEST_LEADS: setting(flag.default(true)),
    DELIVERIES_TABLE: setting(tableName.default('LeadDeliveries')),
    DELIVERY_MAX_ATTEMPTS: setting(z.coerce.number().int().min(1).max(50).default(12)),
    DELIVERY_RETRY_SECONDS: setting(seconds(15)),
    DELIVERY_TIMEOUT_SECONDS: setting(seconds(30)),

    WEBHOOK_URL: setting(url.optional()),
    WEBHOOK_SECRET: setting(z.string().optional()),

    DYNAMICS_URL: setting(url.optional()),
    DYNAMICS_TENANT_ID: setting(z.string().optional()),
    DYNAMICS_CLIENT_ID: setting(z.string().optional()),
    DYNAMICS_CLIENT_SECRET: setting(z.string().optional()),
    DYNAMICS_AUTHORITY_HOST: setting(url.optional()),

    SALESFORCE_OID: setting(z.string().optional()),
    SALESFORCE_URL: setting(url.default('https://webto.salesforce.com/servlet/servlet.WebToLead?encoding=UTF-8')),

    MARKETO_URL: setting(url.optional()),
    MARKETO_CLIENT_ID: setting(z.string().optional()),
    MARKETO_CLIENT_SECRET: setting(z.string().optional()),

    HUBSPOT_TOKEN: setting(z.string().optional()),
    HUBSPOT_URL: setting(url.default('https://api.hubapi.com')),

    NOTIFY_SCHEDULE: setting(z.string().trim().default('0 */5 * * * *')),
    NOTIFY_TO: setting(addressList.default([])),
    NOTIFY_FROM: setting(address.default('marketplace-leads@localhost')),
    NOTIFY_PII: setting(z.enum(['full', 'masked', 'none'], { message: 'use full, masked or none' }).default('masked')),
    NOTIFY_SOURCE_TABLE: setting(tableName.optional()),
    /** The connection string of the account holding NOTIFY_SOURCE_TABLE, when it is not the app's own. */
    NOTIFY_SOURCE_CONNECTION: setting(z.string().trim().optional()),
    NOTIFY_STATE_TABLE: setting(tableName.default('LeadNotifications')),
    NOTIFY_MAX_LEADS_PER_MAIL: setting(z.coerce.number().int().min(1).max(2000).default(200)),
    EMAIL_TRANSPORT: setting(z.enum(['outbox', 'smtp', 'acs'], { message: 'use outbox, smtp or acs' }).default('outbox')),
    OUTBOX_DIR: setting(z.string().default('outbox')),
    SMTP_HOST: setting(z.string().optional()),
    SMTP_PORT: setting(z.coerce.number().int().min(1).max(65535).default(587)),
    SMTP_SECURE: setting(flag.default(false)),
    SMTP_USER: setting(z.string().optional()),
    SMTP_PASSWORD: setting(z.string().optional()),
    ACS_ENDPOINT: setting(url.optional()),
    ACS_CONNECTION_STRING: setting(z.string().optional()),
});

export type Settings = z.infer<typeof settingsSchema> & { storage: StorageConnection };

/** What each destination needs set before it can be used. */
const requiredByDestination: Record<DestinationName, readonly (keyof Settings)[]> = {
    table: [],
    webhook: ['WEBHOOK_URL'],
    dynamics: ['DYNAMICS_URL'],
    salesforce: ['SALESFORCE_OID'],
    marketo: ['MARKETO_URL', 'MARKETO_CLIENT_ID', 'MARKETO_CLIENT_SECRET'],
    hubspot: ['HUBSPOT_TOKEN'],
};

function missingDestinationSettings(parsed: Settings): string[] {
    const used = new Set([...parsed.LEAD_DESTINATIONS, ...parsed.LEAD_ROUTES.flatMap((route) => route.destinations)]);
    return [...used].flatMap((destination) =>
        requiredByDestination[destination].filter((name) => parsed[name] === undefined).map((name) => `${name} is not set: the ${destination} destination needs it`),
    );
}

function missingTransportSettings(parsed: Settings): string[] {
    if (parsed.EMAIL_TRANSPORT === 'smtp' && !parsed.SMTP_HOST) return ['SMTP_HOST is not set: EMAIL_TRANSPORT=smtp needs it'];
    if (parsed.EMAIL_TRANSPORT === 'acs' && !parsed.ACS_ENDPOINT && !parsed.ACS_CONNECTION_STRING) {
        return ['ACS_ENDPOINT or ACS_CONNECTION_STRING must be set: EMAIL_TRANSPORT=acs needs one'];
    }
    return [];
}

/** Values of these settings never appear in messages. */
function looksSecret(name: string): boolean {
    return /secret|password|key|token|connection|storage/i.test(name);
}

export class ConfigurationError extends Error {
    constructor(readonly problems: string[]) {
        super(`The app settings are not valid: ${problems.join('; ')}.`);
        this.name = 'ConfigurationError';
    }
}

function problemsOf(error: z.ZodError, env: Record<string, string | undefined>): string[] {
    return error.issues.map((issue) => {
        const name = String(issue.path[0]);
        const shown = looksSecret(name) ? 'set' : `"${env[name] ?? ''}"`;
        return `${name} is ${shown}: ${issue.message}`;
    });
}

/** Reads and validates all the app settings from an environment; errors name each bad setting. */
export function readSettings(env: Record<string, string | undefined>): Settings {
    const result = settingsSchema.safeParse(env);
    if (!result.success) throw new ConfigurationError(problemsOf(result.error, env));
    const parsed = { ...result.data, storage: storageOf(env) };
    const missing = [...missingDestinationSettings(parsed), ...missingTransportSettings(parsed)];
    if (missing.length > 0) throw new ConfigurationError(missing);
    return parsed;
}

const intakeSchema = settingsSchema.pick({
    AzureWebJobsStorage: true,
    AzureWebJobsStorage__accountName: true,
    AzureWebJobsStorage__queueServiceUri: true,
    AzureWebJobsStorage__tableServiceUri: true,
    LEADS_QUEUE: true,
    ANONYMOUS_LEADS_TABLE: true,
});
export type IntakeSettings = z.infer<typeof intakeSchema> & { storage: StorageConnection };

function storageOf(env: Record<string, string | undefined>): StorageConnection {
    try {
        return storageConnection(env);
    } catch (error) {
        throw new ConfigurationError([(error as Error).message.replace(/\.$/, '')]);
    }
}

/**
 * Only the settings intake needs: a mistake in a CRM's settings must never stop the app from
 * taking leads in.
 */
export function readIntakeSettings(env: Record<string, string | undefined>): IntakeSettings {
    const result = intakeSchema.safeParse(env);
    if (!result.success) throw new ConfigurationError(problemsOf(result.error, env));
    return { ...result.data, storage: storageOf(env) };
}

function once<T>(read: () => T): () => T {
    let value: T | undefined;
    return () => (value ??= read());
}

/** All the app settings, read from the process environment once. */
export const settings = once(() => readSettings(process.env));

/** The intake settings, read from the process environment once. */
export const intakeSettings = once(() => readIntakeSettings(process.env));
