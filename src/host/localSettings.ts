import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const localSettingsSchema = z.object({
    IsEncrypted: z.boolean().optional(),
    Values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
    Host: z.object({ LocalHttpPort: z.number().int().optional() }).loose().optional(),
});

export type LocalSettings = z.infer<typeof localSettingsSchema>;

/**
 * Reads local.settings.json as `func start` does, creating it from local.settings.sample.json
 * when it is missing. Returns whether it was created.
 */
export function readLocalSettings(file: string, root: string): { settings: LocalSettings; created: boolean } {
    let created = false;
    if (!existsSync(file)) {
        copyFileSync(join(root, 'local.settings.sample.json'), file);
        created = true;
    }
    let json: unknown;
    try {
        json = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
        // The parser's message would quote the file, secrets and all.
        throw new Error(`${file} is not valid JSON.`);
    }
    const parsed = localSettingsSchema.safeParse(json);
    if (!parsed.success) {
        throw new Error(`${file} is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`);
    }
    return { settings: parsed.data, created };
}

/** Copies settings into the environment; a variable set (not blank) in the real environment wins. */
export function applySettings(values: Record<string, string>, env: NodeJS.ProcessEnv): void {
    for (const [name, value] of Object.entries(values)) {
        if (!env[name]?.trim()) env[name] = value;
    }
}
