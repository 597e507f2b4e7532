import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isFunctionDefinition, type FunctionDefinition } from '../runtime/define';

function segmentMatcher(segment: string): RegExp {
    const pattern = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
    return new RegExp(`^${pattern}$`);
}

/** Files matching a glob of `*`, `?` and `**` segments, relative to `root`, sorted. */
export function expandGlob(root: string, pattern: string): string[] {
    const walk = (dir: string, segments: string[]): string[] => {
        const [segment, ...rest] = segments;
        if (segment === undefined) return [dir];
        if (segment === '**') {
            const deeper = listDirs(dir).flatMap((sub) => walk(join(dir, sub), segments));
            return [...walk(dir, rest), ...deeper];
        }
        if (!/[*?]/.test(segment)) return exists(join(dir, segment)) ? walk(join(dir, segment), rest) : [];
        const matcher = segmentMatcher(segment);
        return listEntries(dir).filter((name) => matcher.test(name)).flatMap((name) => walk(join(dir, name), rest));
    };
    return [...new Set(walk(resolve(root), pattern.split('/').filter(Boolean)))].filter(isFile).sort();
}

function listEntries(dir: string): string[] {
    try {
        return readdirSync(dir);
    } catch {
        return [];
    }
}

function listDirs(dir: string): string[] {
    return listEntries(dir).filter((name) => !isFile(join(dir, name)));
}

function exists(path: string): boolean {
    try {
        statSync(path);
        return true;
    } catch {
        return false;
    }
}

function isFile(path: string): boolean {
    try {
        return statSync(path).isFile();
    } catch {
        return false;
    }
}

/** The files the Functions host loads: those matching `main` in package.json. */
export function appEntryFiles(root: string): string[] {
    const { main } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main?: string };
    if (!main) throw new Error(`${join(root, 'package.json')} has no "main"; the Functions host needs it to find the app.`);
    const files = expandGlob(root, main);
    if (files.length === 0) throw new Error(`No file matches "main": "${main}" in package.json. Run "npm run build" first.`);
    return files;
}

/**
 * Loads the app's function files and collects the functions they define. Silences the two warnings
 * `@azure/functions` prints outside Azure ("test mode"), because here that is expected.
 */
export function loadFunctions(files: readonly string[]): FunctionDefinition[] {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
        const text = String(args[0]);
        if (!/test mode/.test(text)) warn(...args);
    };
    try {
        // A module may export one definition, or a list of them made from one template.
        return files.flatMap((file) => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- files found at run time, loaded as the worker loads them
            const exported = require(file) as Record<string, unknown>;
            return Object.values(exported).flat().filter(isFunctionDefinition);
        });
    } finally {
        console.warn = warn;
    }
}
