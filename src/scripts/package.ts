import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, createWriteStream, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ZipFile } from 'yazl';
import { consoleAssetNames } from '../console/assets';
import { expandGlob } from '../host/glob';
import { deploymentFileName } from '../runtime/deployment';

/** Where `npm run package` stages the app: the folder azd deploys (azure.yaml `dist`) and Core Tools publishes. */
export const stageFolder = '.package';

/** The zip `npm run deploy` uploads, under the project root. */
export const zipPath = join('dist', 'marketplace-leads.zip');

/**
 * What a deployment carries, and nothing else: the compiled app but the local host and the scripts
 * (neither runs in Azure), the console's assets, host.json and package.json. Anything else in the
 * repository (a leads export, an .env file, local settings, the outbox's mails) never reaches it.
 */
export function appFiles(buildRoot: string): string[] {
    const built = join(buildRoot, 'src');
    const leftOut = ['host', 'scripts'].map((folder) => join(built, folder) + sep);
    return [...expandGlob(built, '**/*.js'), ...consoleAssetNames.map((name) => join(built, 'console', 'static', name))]
        .filter((file) => !leftOut.some((folder) => file.startsWith(folder)))
        .map((file) => relative(built, file).split(sep).join('/'));
}

/** The package.json a deployment carries: no devDependencies, and no scripts a deployment tool could run. */
function deployedPackageJson(projectRoot: string): string {
    const { devDependencies: _dev, scripts: _scripts, ...deployed } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
    return `${JSON.stringify(deployed, null, 2)}\n`;
}

/**
 * Runs npm with the Node.js and npm that run this script (`npm_execpath` under `npm run`), so that
 * no shell is needed: on Windows `npm` is a .cmd file, which Node will not start without one.
 */
function runNpm(args: readonly string[], cwd: string): void {
    const npmCli = process.env.npm_execpath;
    if (npmCli && /\.c?js$/.test(npmCli)) execFileSync(process.execPath, [npmCli, ...args], { cwd, stdio: 'ignore' });
    else execFileSync('npm', args, { cwd, stdio: 'ignore', shell: process.platform === 'win32' });
}

/**
 * Stages the app as it runs in Azure, from an allow-list: the built app from `buildRoot` under
 * dist/src (where package.json's `main` points), host.json, package.json, and the production
 * dependencies the lockfile pins (installed here, then the lockfile and source maps removed).
 */
export function stage(projectRoot: string, buildRoot: string, folder: string): void {
    rmSync(folder, { recursive: true, force: true });
    for (const file of appFiles(buildRoot)) cpSync(join(buildRoot, 'src', file), join(folder, 'dist', 'src', file));
    // A new id for each package: the first instance that starts with it checks the destinations once.
    writeFileSync(join(folder, 'dist', 'src', deploymentFileName), `${JSON.stringify({ id: randomUUID(), packagedAt: new Date().toISOString() })}\n`);
    cpSync(join(projectRoot, 'host.json'), join(folder, 'host.json'));
    writeFileSync(join(folder, 'package.json'), deployedPackageJson(projectRoot));
    cpSync(join(projectRoot, 'package-lock.json'), join(folder, 'package-lock.json'));
    runNpm(['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], folder);
    rmSync(join(folder, 'package-lock.json'));
    for (const map of expandGlob(folder, 'node_modules/**/*.map')) rmSync(map);
}

/** Zips a folder (every file, sorted, "/" separators whatever the platform) with yazl. */
export async function zipFolder(folder: string, zip: string): Promise<void> {
    mkdirSync(dirname(zip), { recursive: true });
    rmSync(zip, { force: true });
    const archive = new ZipFile();
    for (const file of expandGlob(folder, '**/*')) archive.addFile(file, relative(folder, file).split(sep).join('/'));
    archive.end();
    await new Promise<void>((done, fail) => {
        const out = createWriteStream(zip);
        out.on('close', done).on('error', fail);
        archive.outputStream.on('error', fail).pipe(out);
    });
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
async function main(): Promise<void> {
    const buildRoot = resolve(__dirname, '..', '..');
    const projectRoot = resolve(buildRoot, '..');
    const folder = join(projectRoot, stageFolder);
    stage(projectRoot, buildRoot, folder);
    const zip = join(projectRoot, zipPath);
    await zipFolder(folder, zip);
    process.stdout.write(`${stageFolder}/: ${megabytes(folderBytes(folder))} unpacked\n${relative(process.cwd(), zip)}: ${megabytes(statSync(zip).size)}\n`);
}

if (require.main === module) {
    main().catch((error: unknown) => {
        process.stderr.write(`npm run package failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
    });
}
