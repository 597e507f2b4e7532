import { z } from 'zod';
import { destinationNames, type DestinationName } from './destinationNames';
import { fieldMappingSchema } from '../lead/fieldMapping';
import { storageConnection, type StorageConnection } from '../storage/connection';

/** Empty settings count as unset, so a blank line in local.settings.json falls back to the default. */
const blankAsUnset = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : value);

function setting<T extends z.ZodType>(schema: T) {
    return z.preprocess(blankAsUnset, schema);
}

// Each destination has "<name>-<destination>" and the host may add "-poison" to it: the longest,
// "<name>-salesforce-api-poison", must also fit Azure's 63-character limit.
const queueName = z
    .string()
    .trim()
    .regex(/^(?!.*--)[a-z0-9][a-z0-9-]{1,39}[a-z0-9]$/, {
        message: 'a queue name has 3 to 41 lower-case letters, digits and single hyphens, and starts and ends with a letter or digit',
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
        message: 'the leads table name has 3 to 56 letters and digits (the app adds "Updates" and "Emails" for two more tables) and starts with a letter',
    });

/** The attention index goes to "<name>Attention", which must fit the same 63 characters. */
const deliveriesTableName = z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,53}$/, {
        message: 'the deliveries table name has 3 to 54 letters and digits (the app adds "Attention" for a second table) and starts with a letter',
    });

export { destinationNames, type DestinationName };

const destinationList = z
    .string()
    .transform((text) => [
        ...new Set(
            text
                .split(',')
                .map((name) => name.trim().toLowerCase())
                .filter(Boolean),
        ),
    ])
    .pipe(z.array(z.enum(destinationNames, { message: `a destination is one of ${destinationNames.join(', ')}` })));

const routeSchema = z
    .object({
        offer: z.string().optional(),
        action: z.string().optional(),
        destinations: z
            .array(z.string())
            .transform((names) => names.join(','))
            .pipe(destinationList),
    })
    .refine((route) => route.offer !== undefined || route.action !== undefined, { message: 'each route names an offer, an action or both' });

/** `LEAD_ROUTES`: a JSON array of `{"offer"?, "action"?, "destinations": [...]}`, first match wins. */
const routes = z
    .string()
    .transform((text, ctx) => {
        try {
            return JSON.parse(text) as unknown;
        } catch {
            ctx.addIssue({ code: 'custom', message: 'it is not valid JSON' });
            return z.NEVER;
        }
    })
    .pipe(z.array(routeSchema));

/** A bare e-mail address: no display name, no CR/LF, nothing a mail header could be bent with. */
const address = z
    .string()
    .trim()
    .regex(/^[^\s@<>()",;:\\]+@[^\s@<>()",;:\\]+$/, { message: 'expected an e-mail address' });

/** Addresses separated by semicolons, as Partner Center's "Contact email" field takes them; spaces are fine. */
const addressList = z
    .string()
    .transform((text) =>
        text
            .split(/[;,]/)
            .map((part) => part.trim())
            .filter(Boolean),
    )
    .pipe(z.array(address));

const flag = z.enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'use true or false' }).transform((v) => ['true', '1', 'yes'].includes(v));
const seconds = (fallback: number) => z.coerce.number().positive().default(fallback);
/** A comma-separated list, each part trimmed, blanks dropped. */
const commaList = z.string().transform((text) =>
    text
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
);

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
    DELIVERIES_TABLE: setting(deliveriesTableName.default('LeadDeliveries')),
    DELIVERY_MAX_ATTEMPTS: setting(z.coerce.number().int().min(1).max(50).default(12)),
    DELIVERY_RETRY_SECONDS: setting(seconds(15)),
    DELIVERY_TIMEOUT_SECONDS: setting(seconds(30)),
    /** How long the fan-out waits on a destination that is idempotent by key before handing the lead to its own queue; 0: always queue it. */
    DELIVERY_INLINE_SECONDS: setting(z.coerce.number().min(0).max(600).default(10)),
    /** Transient failures in a row that open a destination's circuit (its leads then wait without spending attempts); 0: never. */
    DELIVERY_CIRCUIT_FAILURES: setting(z.coerce.number().int().min(0).max(1000).default(5)),
    /** How long an open circuit first keeps its leads waiting before one probes; it doubles while the destination stays down. */
    DELIVERY_CIRCUIT_PAUSE_SECONDS: setting(seconds(30)),
    /** The longest an open circuit keeps its leads waiting; at least DELIVERY_CIRCUIT_PAUSE_SECONDS. */
    DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS: setting(seconds(300)),

    WEBHOOK_URL: setting(url.optional()),
    WEBHOOK_SECRET: setting(z.string().optional()),
    /** The destination check POSTs a signed `{"event":"ping"}` to WEBHOOK_URL; otherwise it only sees that the receiver answers. */
    WEBHOOK_PING: setting(flag.default(false)),

    DYNAMICS_URL: setting(url.optional()),
    DYNAMICS_TENANT_ID: setting(z.string().optional()),
    DYNAMICS_CLIENT_ID: setting(z.string().optional()),
    DYNAMICS_CLIENT_SECRET: setting(z.string().optional()),
    DYNAMICS_AUTHORITY_HOST: setting(url.optional()),
    /** The CRM's field names, each from a lead field or a constant, merged over the built-in mapping (see fieldMappingSchema). */
    DYNAMICS_FIELDS: setting(fieldMappingSchema.default({})),

    SALESFORCE_OID: setting(z.string().optional()),
    SALESFORCE_URL: setting(url.default('https://webto.salesforce.com/servlet/servlet.WebToLead?encoding=UTF-8')),
    /** For both Salesforce destinations: Web-to-Lead form fields, or Lead fields of the REST API. */
    SALESFORCE_FIELDS: setting(fieldMappingSchema.default({})),

    /** `salesforce-api`: the org's My Domain, `https://contoso.my.salesforce.com`. */
    SALESFORCE_DOMAIN: setting(url.optional()),
    SALESFORCE_CLIENT_ID: setting(z.string().optional()),
    SALESFORCE_CLIENT_SECRET: setting(z.string().optional()),
    SALESFORCE_EXTERNAL_ID_FIELD: setting(
        z
            .string()
            .trim()
            .regex(/^[A-Za-z][A-Za-z0-9_]*__c$/, { message: 'expected the API name of a custom field, such as Marketplace_Lead_Id__c' })
            .optional(),
    ),
    SALESFORCE_API_VERSION: setting(
        z
            .string()
            .trim()
            .regex(/^\d{2,3}\.0$/, { message: 'expected a REST API version such as 62.0' })
            .default('62.0'),
    ),

    MARKETO_URL: setting(url.optional()),
    MARKETO_CLIENT_ID: setting(z.string().optional()),
    MARKETO_CLIENT_SECRET: setting(z.string().optional()),
    MARKETO_FIELDS: setting(fieldMappingSchema.default({})),

    HUBSPOT_TOKEN: setting(z.string().optional()),
    HUBSPOT_URL: setting(url.default('https://api.hubapi.com')),
    HUBSPOT_FIELDS: setting(fieldMappingSchema.default({})),

    /** `teams`: a Teams Workflows "When a Teams webhook request is received" URL; it holds its own signature. */
    TEAMS_WEBHOOK_URL: setting(url.optional()),
    /** `slack`: an incoming-webhook URL; its path is its secret. */
    SLACK_WEBHOOK_URL: setting(url.optional()),

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

    /** Who is told when something needs a person; unset: NOTIFY_TO (see alertRecipients). */
    ALERT_TO: setting(addressList.optional()),
    /** NCRONTAB of the alert timer (`%ALERT_SCHEDULE%`); a run sends only kinds whose interval has passed. */
    ALERT_SCHEDULE: setting(z.string().trim().default('0 * * * * *')),
    /** At most one mail per alert kind in this many minutes (fractions allowed, for tests). */
    ALERT_INTERVAL_MINUTES: setting(z.coerce.number().positive().max(1440).default(30)),
    /** A destination that has failed for a lead this long (from the first failure of its retry chain) is an alert; 0: at the first failure. */
    ALERT_FAILING_MINUTES: setting(z.coerce.number().min(0).max(10_080).default(3)),
    /** No lead for this many hours is an alert, once per quiet spell; unset: no such alert. */
    ALERT_QUIET_HOURS: setting(z.coerce.number().positive().max(8760).optional()),
    ALERTS_TABLE: setting(tableName.default('LeadAlerts')),
    /** NCRONTAB of the destination checks (`%CHECK_SCHEDULE%`): daily by default. */
    CHECK_SCHEDULE: setting(z.string().trim().default('0 0 6 * * *')),
    /** The last check of each destination, one row each: the console's Destinations panel. */
    CHECKS_TABLE: setting(tableName.default('LeadChecks')),

    /** The app role values (the app registration's roles) whose holders may open the console in Azure, separated by commas. */
    CONSOLE_ALLOWED_ROLES: setting(commaList.default([])),
    /** The object ids (GUIDs) of the Entra ID groups whose members may open the console in Azure, separated by commas. */
    CONSOLE_ALLOWED_GROUPS: setting(
        commaList
            .pipe(z.array(z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected group object ids (GUIDs), separated by commas: a group is named by its id, never its name')))
            .default([]),
    ),
    /**
     * The app role value (of the app registration, like CONSOLE_ALLOWED_ROLES) whose holders may take
     * the console's full export, with every contact detail, which imports again; unset: nobody in
     * Azure. Outside Azure the person at the machine may.
     */
    CONSOLE_EXPORT_ROLE: setting(z.string().trim().max(256).optional()),
    /** The console's address in links from alerts and channels; by default derived from WEBSITE_HOSTNAME in Azure. */
    CONSOLE_URL: setting(url.optional()),
    /**
     * `entra` when the deployment configured App Service Authentication with Entra ID for the console
     * (the Bicep writes it with authsettingsV2); blank: the console is off in Azure (signInEnabled).
     */
    CONSOLE_SIGN_IN: setting(z.enum(['', 'entra']).default('')),
});

export type SettingName = keyof z.infer<typeof settingsSchema>;

export type Settings = z.infer<typeof settingsSchema> & {
    storage: StorageConnection;
    /** Settings holding a Key Vault reference Azure could not resolve; they read as unset, and what uses them fails naming them. */
    unresolved: readonly SettingName[];
    /** The app runs in Azure (App Service sets WEBSITE_INSTANCE_ID, Flex Consumption WEBSITE_SKU), not on a developer's machine. */
    inAzure: boolean;
    /** App Service Authentication is in front of the app (signInEnabled): only then is a sign-in header the platform's. */
    authEnabled: boolean;
    /** Alert and console settings that could not be read: they stand at their defaults, and the alert runs report them. */
    fallbacks: string[];
};

/**
 * Settings of the alerts and the console: a mistake in one must never stop leads from being
 * delivered (or, through that, raise the very alerts it would silence). A bad value falls back to
 * the default and is reported by every alert run, and by npm start.
 */
const lenientSettings = [
    'ALERT_TO',
    'ALERT_INTERVAL_MINUTES',
    'ALERT_FAILING_MINUTES',
    'ALERT_QUIET_HOURS',
    'ALERTS_TABLE',
    'CHECKS_TABLE',
    'CONSOLE_URL',
    'CONSOLE_ALLOWED_ROLES',
    'CONSOLE_ALLOWED_GROUPS',
    'CONSOLE_EXPORT_ROLE',
    'CONSOLE_SIGN_IN',
] as const satisfies readonly SettingName[];

function lenientFallbacks(env: Record<string, string | undefined>): { names: string[]; problems: string[] } {
    const failed = lenientSettings.flatMap((name) => {
        const result = settingsSchema.shape[name].safeParse(env[name]);
        return result.success ? [] : [{ name, message: result.error.issues[0]?.message ?? 'not valid' }];
    });
    const problems = failed.map((f) => `${f.name} is "${env[f.name] ?? ''}": ${f.message}; it stands at its default until it is fixed`);
    // Roles and group ids once shared one list, so a group named like a role got in: the old setting is read no more.
    if (env.CONSOLE_ALLOWED?.trim()) problems.push('CONSOLE_ALLOWED is no longer read: name app roles in CONSOLE_ALLOWED_ROLES and group object ids in CONSOLE_ALLOWED_GROUPS');
    return { names: failed.map((f) => f.name), problems };
}

/** Every setting each destination reads: an unresolved Key Vault reference in one of them fails only that destination. */
export const settingsByDestination: Record<DestinationName, readonly SettingName[]> = {
    table: [],
    webhook: ['WEBHOOK_URL', 'WEBHOOK_SECRET'],
    dynamics: ['DYNAMICS_URL', 'DYNAMICS_TENANT_ID', 'DYNAMICS_CLIENT_ID', 'DYNAMICS_CLIENT_SECRET', 'DYNAMICS_AUTHORITY_HOST'],
    salesforce: ['SALESFORCE_OID', 'SALESFORCE_URL'],
    'salesforce-api': ['SALESFORCE_DOMAIN', 'SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET', 'SALESFORCE_EXTERNAL_ID_FIELD', 'SALESFORCE_API_VERSION'],
    marketo: ['MARKETO_URL', 'MARKETO_CLIENT_ID', 'MARKETO_CLIENT_SECRET'],
    hubspot: ['HUBSPOT_TOKEN', 'HUBSPOT_URL'],
    teams: ['TEAMS_WEBHOOK_URL'],
    slack: ['SLACK_WEBHOOK_URL'],
};

/** The settings each mail transport reads: a mistake in them stops the digests, never the delivery of leads. */
const settingsByTransport: Record<Settings['EMAIL_TRANSPORT'], readonly SettingName[]> = {
    outbox: [],
    smtp: ['SMTP_HOST', 'SMTP_PORT', 'SMTP_SECURE', 'SMTP_USER', 'SMTP_PASSWORD'],
    acs: ['ACS_ENDPOINT', 'ACS_CONNECTION_STRING'],
};

/** What each destination needs set before it can be used. */
const requiredByDestination: Record<DestinationName, readonly SettingName[]> = {
    table: [],
    webhook: ['WEBHOOK_URL'],
    dynamics: ['DYNAMICS_URL'],
    salesforce: ['SALESFORCE_OID'],
    'salesforce-api': ['SALESFORCE_DOMAIN', 'SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET', 'SALESFORCE_EXTERNAL_ID_FIELD'],
    marketo: ['MARKETO_URL', 'MARKETO_CLIENT_ID', 'MARKETO_CLIENT_SECRET'],
    hubspot: ['HUBSPOT_TOKEN'],
    teams: ['TEAMS_WEBHOOK_URL'],
    slack: ['SLACK_WEBHOOK_URL'],
};

/** The settings `destination` needs that are not set (an unresolved Key Vault reference counts as set: it is reported as such). */
export function missingSettingsOf(destination: DestinationName, parsed: Settings): string[] {
    return requiredByDestination[destination].filter((name) => parsed[name] === undefined && !parsed.unresolved.includes(name)).map((name) => `${name} is not set: the ${destination} destination needs it`);
}

function circuitProblems(parsed: Settings, env: Record<string, string | undefined>): string[] {
    const first = parsed.DELIVERY_CIRCUIT_PAUSE_SECONDS;
    const longest = parsed.DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS;
    if (longest >= first) return [];
    // Blame the one that was set: with the longest pause at its default, the first pause is the mistake.
    return env.DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS?.trim()
        ? [`DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS is "${env.DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS}": the longest pause cannot be shorter than DELIVERY_CIRCUIT_PAUSE_SECONDS (${first})`]
        : [`DELIVERY_CIRCUIT_PAUSE_SECONDS is "${env.DELIVERY_CIRCUIT_PAUSE_SECONDS ?? ''}": the first pause cannot be longer than DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS (${longest})`];
}

function missingDestinationSettings(parsed: Settings): string[] {
    const used = new Set([...parsed.LEAD_DESTINATIONS, ...parsed.LEAD_ROUTES.flatMap((route) => route.destinations)]);
    return [...used].flatMap((destination) => missingSettingsOf(destination, parsed));
}

/** Who alerts go to: ALERT_TO, or NOTIFY_TO when it is not set. */
export function alertRecipients(settings: Pick<Settings, 'ALERT_TO' | 'NOTIFY_TO'>): string[] {
    return settings.ALERT_TO ?? settings.NOTIFY_TO;
}

/** ACS takes at most this many recipients in one mail (Azure Communication Services service limits). */
export const acsMaxRecipients = 50;

function transportProblems(parsed: Settings): string[] {
    switch (parsed.EMAIL_TRANSPORT) {
        case 'outbox':
            return parsed.inAzure ? ['EMAIL_TRANSPORT is "outbox": the outbox writes files into the app\'s folder, which is read-only in Azure; set EMAIL_TRANSPORT to acs or smtp'] : [];
        case 'smtp':
            return parsed.SMTP_HOST || parsed.unresolved.includes('SMTP_HOST') ? [] : ['SMTP_HOST is not set: EMAIL_TRANSPORT=smtp needs it'];
        case 'acs': {
            const problems = parsed.NOTIFY_TO.length > acsMaxRecipients ? [`NOTIFY_TO has ${parsed.NOTIFY_TO.length} addresses: Azure Communication Services takes at most ${acsMaxRecipients} in one mail`] : [];
            const unset = !parsed.ACS_ENDPOINT && !parsed.ACS_CONNECTION_STRING && !parsed.unresolved.some((name) => name.startsWith('ACS_'));
            return unset ? [...problems, 'ACS_ENDPOINT or ACS_CONNECTION_STRING must be set: EMAIL_TRANSPORT=acs needs one'] : problems;
        }
    }
}

/** The Key Vault references among `names` that Azure could not resolve, as problems naming each setting. */
export function unresolvedProblems(settings: Pick<Settings, 'unresolved'>, names: readonly SettingName[]): string[] {
    return settings.unresolved.filter((name) => names.includes(name)).map(unresolvedProblem);
}

/**
 * What stops the digests from going out: the transport's settings. Checked when notifying, not when
 * reading the settings, so that a mail setting never holds up the delivery of leads.
 */
export function mailSettingsProblems(settings: Settings): string[] {
    const read: SettingName[] = [...settingsByTransport[settings.EMAIL_TRANSPORT], ...(settings.NOTIFY_SOURCE_TABLE ? (['NOTIFY_SOURCE_CONNECTION'] as const) : [])];
    return [...unresolvedProblems(settings, read), ...transportProblems(settings)];
}

/**
 * Azure passes a Key Vault reference it could not resolve (no access to the vault, a missing
 * secret) to the app as its literal text, which would otherwise be used as the secret itself.
 */
function isKeyVaultReference(value: string | undefined): boolean {
    return /^\s*@Microsoft\.KeyVault\(/i.test(value ?? '');
}

function unresolvedProblem(name: string): string {
    return `${name} is an unresolved Key Vault reference: Azure could not read the secret and passed "@Microsoft.KeyVault(...)" on as text; check that the secret exists and that the app's identity may read secrets in the vault (the Key Vault Secrets User role)`;
}

function unresolvedIn(env: Record<string, string | undefined>, names: readonly string[]): string[] {
    return names.filter((name) => isKeyVaultReference(env[name]));
}

/** In Azure, App Service sets WEBSITE_INSTANCE_ID; Flex Consumption sets WEBSITE_SKU, even before specialisation. */
export function runsInAzure(env: Record<string, string | undefined>): boolean {
    return Boolean(env.WEBSITE_INSTANCE_ID?.trim() || env.WEBSITE_SKU?.trim());
}

/**
 * Whether the console may trust the platform's sign-in headers: App Service Authentication is on,
 * and it is the Entra ID sign-in this deployment configured. WEBSITE_AUTH_ENABLED is the platform's
 * word: App Service sets it, and on Flex Consumption (as on Linux Consumption) the Functions host
 * sets it from the site's auth settings when an instance is assigned, then runs the sign-in module
 * in the host (azure-functions-host HostAssignmentContext.ApplyAppSettings, reached from
 * LegionInstanceManager through LinuxInstanceManager.AssignAsync; JobHostEasyAuthMiddleware).
 * CONSOLE_SIGN_IN=entra is written by the Bicep only with the sign-in it configures. Both must hold:
 * where either is missing the console stays off, so a doubt never shows leads.
 */
export function signInEnabled(env: Record<string, string | undefined>): boolean {
    return env.WEBSITE_AUTH_ENABLED?.trim().toLowerCase() === 'true' && env.CONSOLE_SIGN_IN?.trim().toLowerCase() === 'entra';
}

/** Values of these settings never appear in messages. */
function looksSecret(name: string): boolean {
    // A Teams Workflows or Slack webhook URL is its own credential: whoever has it may post.
    return /secret|password|key|token|connection|storage|^(TEAMS|SLACK)_WEBHOOK_URL$/i.test(name);
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
    const unresolved = unresolvedIn(env, Object.keys(settingsSchema.shape)) as SettingName[];
    const deferred = new Set<SettingName>([...Object.values(settingsByDestination).flat(), ...Object.values(settingsByTransport).flat(), 'NOTIFY_SOURCE_CONNECTION']);
    const fatal = unresolved.filter((name) => !deferred.has(name));
    if (fatal.length > 0) throw new ConfigurationError(fatal.map(unresolvedProblem));
    const fallbacks = lenientFallbacks(env);
    const result = settingsSchema.safeParse(withoutSettings(env, [...unresolved, ...fallbacks.names]));
    if (!result.success) throw new ConfigurationError(problemsOf(result.error, env));
    const parsed = { ...result.data, storage: storageOf(env), unresolved, inAzure: runsInAzure(env), authEnabled: signInEnabled(env), fallbacks: fallbacks.problems };
    const missing = [...circuitProblems(parsed, env), ...missingDestinationSettings(parsed)];
    if (missing.length > 0) throw new ConfigurationError(missing);
    return parsed;
}

function withoutSettings(env: Record<string, string | undefined>, names: readonly string[]): Record<string, string | undefined> {
    return Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));
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
    const unresolved = unresolvedIn(env, Object.keys(intakeSchema.shape));
    if (unresolved.length > 0) throw new ConfigurationError(unresolved.map(unresolvedProblem));
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
