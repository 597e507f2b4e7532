import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { open as openZip } from 'yauzl';
import { expandGlob } from '../../src/host/glob';
import { deploymentId } from '../../src/runtime/deployment';
import { stage, stageFolder, zipFolder } from '../../src/scripts/package';
import { azdRemoteBuild, azdZippedFiles } from '../helpers/azd';
import { publishedFiles, publishWorkerRuntime } from '../helpers/coreTools';
import { buildRoot, projectRoot } from '../helpers/samples';

const read = (path: string) => readFileSync(join(projectRoot, path), 'utf8');

/** Top-level folders of the packages npm installs only for development, from the lockfile. */
function devPackageFolders(): string[] {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean }> };
    return Object.entries(lock.packages)
        .filter(([path, entry]) => entry.dev === true && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path))
        .map(([path]) => path);
}

/** The names of a zip's entries, as yauzl reads its central directory. */
function zipEntries(zip: string): Promise<string[]> {
    return new Promise((resolve, reject) => {
        openZip(zip, { lazyEntries: true }, (error, archive) => {
            if (error) return reject(error);
            const names: string[] = [];
            archive.on('entry', (entry: { fileName: string }) => {
                names.push(entry.fileName);
                archive.readEntry();
            });
            archive.on('end', () => resolve(names.sort()));
            archive.on('error', reject);
            archive.readEntry();
        });
    });
}

/** Writes a file, making its folders. */
function plant(root: string, path: string, text: string): void {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
}

/**
 * What a user's clone holds besides the app, in the places a user leaves things: an export of
 * leads, an .env file, other local settings, the outbox's mails, and files under dist/.
 */
const planted = [
    'leads.csv',
    '.env',
    'local.settings.json',
    'local.settings.prod.json',
    'outbox/2026-12-01T10-00-00Z-digest.eml',
    'dist/leads.csv',
    'dist/src/.env',
    'dist/src/functions/local.settings.json',
    'dist/src/console/static/leads.csv',
];

describe('npm run package stages an allow-list: the built app, host.json, package.json and production dependencies', () => {
    let work = '';
    let staged: string[] = [];
    let zipped: string[] = [];

    before(async () => {
        // A clone as a user has it: the project's files, a build, and the files planted around them.
        work = mkdtempSync(join(tmpdir(), 'marketplace-leads-package-'));
        const clone = join(work, 'clone');
        for (const file of ['host.json', 'package.json', 'package-lock.json']) cpSync(join(projectRoot, file), join(clone, file));
        cpSync(join(buildRoot, 'src'), join(clone, 'dist', 'src'), { recursive: true });
        for (const path of planted) plant(clone, path, 'Email,Phone\nada@contoso.com,+1 555 0100\n');
        const folder = join(work, stageFolder);
        stage(clone, join(clone, 'dist'), folder);
        staged = expandGlob(folder, '**/*').map((file) => relative(folder, file).split('\\').join('/'));
        await zipFolder(folder, join(work, 'app.zip'));
        zipped = await zipEntries(join(work, 'app.zip'));
    });

    after(() => {
        rmSync(work, { recursive: true, force: true });
    });

    it('holds nothing but the allow-list', () => {
        const outside = staged.filter((file) => !/^(host\.json|package\.json|dist\/src\/.+\.js|dist\/src\/deployment\.json|dist\/src\/console\/static\/console\.(css|js)|node_modules\/.+)$/.test(file));
        assert.deepEqual(outside, []);
        for (const file of ['host.json', 'package.json', 'dist/src/functions/receiveLead.js', 'dist/src/console/static/console.css', 'node_modules/@azure/functions/package.json', 'node_modules/zod/package.json']) {
            assert.ok(staged.includes(file), file);
        }
    });

    it('carries a deployment id of its own, so the first instance that starts with it checks the destinations once', () => {
        const id = deploymentId(join(work, stageFolder, 'dist', 'src'));
        assert.match(id ?? '', /^[0-9a-f-]{36}$/);
        assert.equal(deploymentId(join(buildRoot, 'src')), undefined, 'a build (npm start, tests) has none');
    });

    it('ships none of the files a user leaves in the clone', () => {
        assert.deepEqual(
            staged.filter((file) => planted.includes(file)),
            [],
        );
        assert.deepEqual(
            staged.filter((file) => /(^|\/)(\.env|local\.settings[^/]*|leads\.csv|[^/]*\.eml)$/.test(file)),
            [],
        );
    });

    it('ships no development package, source map, TypeScript source, test, local host or script', () => {
        assert.ok(devPackageFolders().includes('node_modules/azurite'));
        const dev = devPackageFolders();
        assert.deepEqual(
            staged.filter(
                (file) => dev.some((folder) => file.startsWith(`${folder}/`)) || /\.map$/.test(file) || /^(src|test|bench|dist\/test|dist\/src\/host|dist\/src\/scripts)\//.test(file) || /^dist\/.*\.ts$/.test(file),
            ),
            [],
        );
    });

    it('carries a package.json without devDependencies or scripts, whose main finds every function file', () => {
        const deployed = JSON.parse(readFileSync(join(work, stageFolder, 'package.json'), 'utf8')) as Record<string, unknown>;
        assert.equal(deployed.devDependencies, undefined);
        assert.equal(deployed.scripts, undefined);
        assert.equal(deployed.main, 'dist/src/functions/*.js');
        const functionFiles = expandGlob(join(buildRoot, 'src', 'functions'), '*.js').map((file) => `dist/src/functions/${relative(join(buildRoot, 'src', 'functions'), file)}`);
        assert.ok(functionFiles.length >= 6);
        for (const file of functionFiles) assert.ok(staged.includes(file), file);
    });

    it('loads every function file from the staged folder alone: nothing reaches the local host, the scripts or a development package', () => {
        const folder = join(work, stageFolder);
        const files = staged.filter((file) => /^dist\/src\/functions\/[^/]+\.js$/.test(file));
        const run = spawnSync(process.execPath, ['-e', `for (const file of ${JSON.stringify(files)}) require('./' + file);`], { cwd: folder, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
        assert.equal(run.status, 0, run.stderr);
    });

    it('zips exactly the staged files, with "/" separators, by a library (no zip program)', () => {
        assert.deepEqual(zipped, [...staged].sort());
        assert.doesNotMatch(read('src/scripts/package.ts'), /execFileSync\('zip'/);
        assert.doesNotMatch(read('infra/deploy.sh'), /for tool in [^;]*\bzip\b/, 'deploy.sh needs no zip program');
    });

    it('Core Tools, run as docs/DEPLOY.md says from a fresh clone, knows the worker runtime without local settings and zips exactly the staged files', () => {
        const readme = read('docs/DEPLOY.md');
        const block = /```sh\n((?:.*\n)*?)```/g;
        const sequence = [...readme.matchAll(block)].map((m) => m[1] ?? '').find((text) => text.includes('func azure functionapp publish'));
        assert.ok(sequence, 'docs/DEPLOY.md has a Core Tools block');
        const commands = sequence
            .split('\n')
            .map((line) => line.replace(/#.*$/, '').trim())
            .filter(Boolean);
        assert.deepEqual(commands.slice(0, 3), ['npm ci', 'npm run package', `cd ${stageFolder}`], 'from a fresh clone: install, stage, go into the staged folder');
        const publish = (commands[3] ?? '').split(/\s+/);
        assert.deepEqual(publish.slice(0, 4), ['func', 'azure', 'functionapp', 'publish']);
        assert.doesNotMatch(publish[4] ?? '', /^-/, 'the app name comes first (BaseFunctionAppAction.ParseArgs)');
        const folder = join(work, stageFolder);
        const noRuntime = { ...process.env, FUNCTIONS_WORKER_RUNTIME: undefined };
        assert.equal(publishWorkerRuntime(publish.slice(2), noRuntime, folder), 'node');
        assert.equal(publishWorkerRuntime(['azure', 'functionapp', 'publish', 'app'], noRuntime, folder), 'none', 'without the flag Core Tools stops: the staged folder has no local.settings.json');
        assert.match(read('infra/app/api.bicep'), /runtime: \{ name: 'node', version: '22' \}/, 'the Flex app runtime Core Tools compares with (ValidateFunctionAppPublish)');
        assert.match(read('infra/app/api.bicep'), /AzureWebJobsStorage__\w+:/, 'the host storage setting ValidateFunctionAppPublish requires');
        assert.deepEqual(publishedFiles(folder), staged);
    });

    it('azd deploys the staged folder as it is: its Node.js hook stages it, azure.yaml keeps node_modules and turns remote build off', () => {
        const yaml = read('azure.yaml');
        assert.match(yaml, new RegExp(`dist: ${stageFolder.replace('.', '\\.')}\n`));
        assert.match(yaml, /hooks:\n {2}prepackage:\n {4}kind: js\n {4}run: infra\/hooks\/prepackage\.mjs\n/, 'a Node.js hook: no sh');
        assert.match(read('infra/hooks/prepackage.mjs'), /spawnSync\('npm', \['run', 'package'\]/);
        const remoteBuild = /remoteBuild: (true|false)/.exec(yaml)?.[1];
        assert.equal(remoteBuild, 'false');
        assert.equal(azdRemoteBuild(projectRoot, false), false, 'no .funcignore at the root, remoteBuild: false');
        const folder = join(work, stageFolder);
        assert.deepEqual(azdZippedFiles(folder, false), staged);
        assert.ok(!azdZippedFiles(folder, undefined).some((file) => file.startsWith('node_modules/')), 'without remoteBuild: false azd would leave node_modules out');
    });
});
