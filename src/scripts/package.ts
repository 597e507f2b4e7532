import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { expandGlob } from '../host/glob';

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
    const rules = readFileSync(join(projectRoot, '.funcignore'), 'utf8')
        .split(/\r?\n/)
        .flatMap((line) => ignoreRule(line) ?? []);
    return expandGlob(projectRoot, '**/*')
        .map((file) => relative(projectRoot, file))
        .filter((file) => !file.startsWith('node_modules/') && !file.startsWith('.git/') && !rules.some((ignored) => ignored(file)));
}

/** Where `npm run package` stages the app: the folder azd deploys (azure.yaml `dist`) and Core Tools can publish. */
export const stageFolder = '.package';

/** The package.json a deployment carries: no devDependencies, and no scripts a deployment tool could run. */
function deployedPackageJson(projectRoot: string): string {
    const { devDependencies: _dev, scripts: _scripts, ...deployed } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
    return `${JSON.stringify(deployed, null, 2)}\n`;
}

/**
 * Stages the app as it runs in Azure: its files as .funcignore leaves them, production dependencies
 * only, and no source maps (the dependencies ship theirs; nothing reads them in Azure).
 */
export function stage(projectRoot: string, folder: string): void {
    rmSync(folder, { recursive: true, force: true });
    for (const file of packagedFiles(projectRoot)) cpSync(join(projectRoot, file), join(folder, file));
    writeFileSync(join(folder, 'package.json'), deployedPackageJson(projectRoot));
    cpSync(join(projectRoot, 'package-lock.json'), join(folder, 'package-lock.json'));
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: folder, stdio: 'ignore' });
    for (const map of expandGlob(folder, 'node_modules/**/*.map')) rmSync(map);
}

function megabytes(bytes: number): string {
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function folderBytes(folder: string): number {
    return expandGlob(folder, '**/*').reduce((sum, file) => sum + statSync(file).size, 0);
}

/**
 * Stages the app in .package (what azd and Core Tools deploy) and zips it into
 * dist/marketplace-leads.zip (what `npm run deploy` uploads), and prints both sizes.
 */
function main(): void {
    const folder = join(root, stageFolder);
    stage(root, folder);
    const zip = join(root, 'dist', 'marketplace-leads.zip');
    if (existsSync(zip)) rmSync(zip);
    execFileSync('zip', ['-q', '-r', '-X', zip, '.'], { cwd: folder });
    process.stdout.write(`${stageFolder}/: ${megabytes(folderBytes(folder))} unpacked\n${relative(process.cwd(), zip)}: ${megabytes(statSync(zip).size)}\n`);
}

if (require.main === module) main();
