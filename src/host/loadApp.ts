import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { isFunctionDefinition, type FunctionDefinition } from '../runtime/define';
import { expandGlob } from './glob';

/**
 * The files the Functions host loads: those matching `main` in package.json. `buildDir` is where
 * this copy of the app was compiled, when not `dist` (a second build beside it, for tests run in
 * parallel): `main`'s leading `dist/` then names that folder, so the host loads its own build.
 */
export function appEntryFiles(root: string, buildDir = join(root, 'dist')): string[] {
    const { main } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main?: string };
    if (!main) throw new Error(`${join(root, 'package.json')} has no "main"; the Functions host needs it to find the app.`);
    const build = relative(root, buildDir).split(sep).join('/');
    const files = expandGlob(root, main.startsWith('dist/') ? `${build}/${main.slice('dist/'.length)}` : main);
    if (files.length === 0) throw new Error(`No file matches "main": "${main}" in package.json. Run "npm run build" first.`);
    return files;
}

/**
 * Loads the app's function files and collects the functions they define. Silences what
 * `@azure/functions` prints outside Azure ("test mode", streaming on), because here that is expected.
 */
export function loadFunctions(files: readonly string[]): FunctionDefinition[] {
    const { warn, debug } = console;
    console.warn = (...args: unknown[]) => {
        if (!/test mode/.test(String(args[0]))) warn(...args);
    };
    // The library's note that HTTP streaming is on, which outside Azure changes nothing.
    console.debug = (...args: unknown[]) => {
        if (!/^HTTP streaming enabled/.test(String(args[0]))) debug(...args);
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
        console.debug = debug;
    }
}
