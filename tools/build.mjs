// Builds dist/. `node tools/build.mjs` builds it from scratch (npm run build: what npm start, npm test
// and npm run package run). `node tools/build.mjs --if-stale` (the CLI's npm scripts) returns at once
// when dist/ is current, and otherwise compiles beside it and moves each changed file into place, so
// that an `npm start` running from dist/ never finds a module missing or half-written.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

const root = dirname(import.meta.dirname);
const dist = join(root, 'dist');
const stampFile = join(dist, '.build-stamp');
const staticAssets = join('src', 'console', 'static');

/** Every file under `path` (a folder or a file), or none when it does not exist. */
function filesUnder(path) {
    if (!existsSync(path)) return [];
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name));
}

/** A hash of the path, modification time and size of everything the build reads. */
function sourcesFingerprint() {
    const { include } = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
    // A pattern would match nothing here, and the files it stands for would never make dist/ stale.
    if (!Array.isArray(include) || include.some((path) => /[*?]/.test(path))) {
        throw new Error(`tsconfig.json's "include" is ${JSON.stringify(include)}: tools/build.mjs needs a list of folders and files, without patterns.`);
    }
    const inputs = ['tsconfig.json', 'package.json', 'package-lock.json', relative(root, import.meta.filename), ...include];
    const hash = createHash('sha256');
    for (const file of inputs.flatMap((path) => filesUnder(join(root, path))).sort()) {
        const { mtimeMs, size } = statSync(file);
        hash.update(`${relative(root, file)}\0${mtimeMs}\0${size}\n`);
    }
    return hash.digest('hex');
}

/** Compiles the project into `outDir` with its static assets; says how tsc failed, or nothing. */
function compile(outDir) {
    const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
    // tsc reports on stdout, which belongs to the command this build runs for (`export --csv > leads.csv`).
    const result = spawnSync(process.execPath, [tsc, '-p', root, '--outDir', outDir], { cwd: root, stdio: ['ignore', 2, 2] });
    if (result.error) return `tsc could not run (${result.error.message})`;
    if (result.status !== 0) return `tsc failed (${result.signal ? `signal ${result.signal}` : `exit code ${result.status}`})`;
    cpSync(join(root, staticAssets), join(outDir, staticAssets), { recursive: true });
    return undefined;
}

/** Moves every file of `incoming` whose content differs into dist/; a rename replaces a file in one step. */
function moveChangedFiles(incoming) {
    for (const file of filesUnder(incoming)) {
        const target = join(dist, relative(incoming, file));
        if (existsSync(target) && readFileSync(target).equals(readFileSync(file))) continue;
        mkdirSync(dirname(target), { recursive: true });
        renameSync(file, target);
    }
}

function writeStamp(fingerprint) {
    const next = `${stampFile}.${process.pid}`;
    writeFileSync(next, `${fingerprint}\n`);
    renameSync(next, stampFile);
}

function build(ifStale) {
    // Taken before compiling: a source saved during the compile leaves dist/ stale, not stamped current.
    const fingerprint = sourcesFingerprint();
    if (!ifStale) {
        rmSync(dist, { recursive: true, force: true });
        const failure = compile(dist);
        if (failure) {
            console.error(`${failure}.`);
            return 1;
        }
        writeStamp(fingerprint);
        return 0;
    }
    const stamp = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : undefined;
    if (stamp === fingerprint) return 0;
    console.error(`${stamp ? 'The sources changed since dist/ was built' : `"${relative(root, stampFile)}" does not exist`}: compiling (dist/ is updated in place; nothing in it is deleted).`);
    // Beside dist/, at its depth, so that the source maps' relative paths stay right after the move.
    const incoming = join(root, `dist-incoming-${process.pid}`);
    try {
        const failure = compile(incoming);
        if (failure) {
            console.error(`${failure}: dist/ is left as it was.`);
            return 1;
        }
        moveChangedFiles(incoming);
    } finally {
        rmSync(incoming, { recursive: true, force: true });
    }
    writeStamp(fingerprint);
    return 0;
}

process.exitCode = build(process.argv.includes('--if-stale'));
