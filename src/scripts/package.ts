import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { expandGlob } from '../host/loadApp';

const root = resolve(__dirname, '..', '..', '..');

/** Turns one .funcignore line (gitignore syntax, without negation) into a test on a relative path. */
export function ignoreRule(line: string): ((path: string) => boolean) | undefined {
    const pattern = line.trim();
    if (!pattern || pattern.startsWith('#') || pattern.startsWith('!')) return undefined;
    const anchored = pattern.replace(/\/$/, '').includes('/');
    const body = pattern
        .replace(/^\/|\/$/g, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*/g, '\u0000')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        // eslint-disable-next-line no-control-regex -- \u0000 stood in for ** while the pattern was translated
        .replace(/\u0000/g, '.*');
    const regex = new RegExp(anchored ? `^${body}(/.*)?$` : `(^|/)${body}(/.*)?$`);
    return (path) => regex.test(path);
}

/** The files a deployment carries: everything under the project but what .funcignore leaves out. */
export function packagedFiles(projectRoot: string): string[] {
    const rules = readFileSync(join(projectRoot, '.funcignore'), 'utf8').split(/\r?\n/).flatMap((line) => ignoreRule(line) ?? []);
    return expandGlob(projectRoot, '**/*')
        .map((file) => relative(projectRoot, file))
        .filter((file) => !file.startsWith('node_modules/') && !file.startsWith('.git/') && !rules.some((ignored) => ignored(file)));
}

/**
 * Builds the zip `func azure functionapp publish` would upload: the app's files as .funcignore
 * leaves them, with production dependencies only, and prints its size.
 */
function main(): void {
    const stage = mkdtempSync(join(tmpdir(), 'marketplace-leads-package-'));
    try {
        for (const file of packagedFiles(root)) cpSync(join(root, file), join(stage, file));
        cpSync(join(root, 'package-lock.json'), join(stage, 'package-lock.json'));
        execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: stage, stdio: 'ignore' });
        const zip = join(root, 'dist', 'marketplace-leads.zip');
        if (existsSync(zip)) rmSync(zip);
        execFileSync('zip', ['-q', '-r', '-X', zip, '.'], { cwd: stage });
        const megabytes = statSync(zip).size / 1024 / 1024;
        process.stdout.write(`${relative(process.cwd(), zip)}: ${megabytes.toFixed(1)} MB\n`);
    } finally {
        rmSync(stage, { recursive: true, force: true });
    }
}

if (require.main === module) main();
