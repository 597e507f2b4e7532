import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const types: Record<string, string> = {
    'console.css': 'text/css; charset=utf-8',
    'console.js': 'text/javascript; charset=utf-8',
};

/** The files under static/ that the console serves, and so that a deployment carries. */
export const consoleAssetNames: readonly string[] = Object.keys(types);

const cache = new Map<string, string>();

/** A file of the console's own, served by the app itself (no CDN); undefined for any other name. */
export function consoleAsset(name: string): { body: string; contentType: string } | undefined {
    const contentType = types[name];
    if (!contentType) return undefined;
    let body = cache.get(name);
    if (body === undefined) {
        // The build copies src/console/static beside the compiled modules.
        body = readFileSync(join(__dirname, 'static', name), 'utf8');
        cache.set(name, body);
    }
    return { body, contentType };
}
