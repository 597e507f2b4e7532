import { z } from 'zod';

/** Empty settings count as unset, so a blank line in local.settings.json falls back to the default. */
const blankAsUnset = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : value);

function setting<T extends z.ZodType>(schema: T) {
    return z.preprocess(blankAsUnset, schema);
}

// The poison queue is "<name>-poison", which must also fit Azure's 63-character limit.
const queueName = z
    .string()
    .trim()
    .regex(/^(?!.*--)[a-z0-9][a-z0-9-]{1,54}[a-z0-9]$/, {
        message: 'a queue name has 3 to 56 lower-case letters, digits and single hyphens, and starts and ends with a letter or digit',
    });

const tableName = z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, {
        message: 'a table name has 3 to 63 letters and digits and starts with a letter',
    });

export const settingsSchema = z.object({
    AzureWebJobsStorage: setting(z.string().trim().default('UseDevelopmentStorage=true')),
    LEADS_QUEUE: setting(queueName.default('leads')),
    LEADS_TABLE: setting(tableName.default('MarketplaceLeads')),
});

export type Settings = z.infer<typeof settingsSchema>;

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

/** Reads and validates the app settings from an environment; errors name each bad setting. */
export function readSettings(env: Record<string, string | undefined>): Settings {
    const result = settingsSchema.safeParse(env);
    if (result.success) return result.data;
    throw new ConfigurationError(
        result.error.issues.map((issue) => {
            const name = String(issue.path[0]);
            const shown = looksSecret(name) ? 'set' : `"${env[name] ?? ''}"`;
            return `${name} is ${shown}: ${issue.message}`;
        }),
    );
}

let cached: Settings | undefined;

/** The app settings, read from the process environment once. */
export function settings(): Settings {
    cached ??= readSettings(process.env);
    return cached;
}
