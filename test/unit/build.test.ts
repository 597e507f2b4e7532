import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/processes';
import { projectRoot } from '../helpers/samples';

const stamp = '.build-stamp';

function write(root: string, path: string, content: string | Buffer): void {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
}

/**
 * A clone in miniature: this project's package.json, lockfile, tsconfig.json and build script, its
 * node_modules, and two modules standing in for the CLI's scripts, which print their name, the
 * version they import and their arguments. Removed after the test (the link, not node_modules).
 */
function project(t: TestContext): string {
    const root = tempDir('build');
    t.after(() => rmSync(root, { recursive: true, force: true }));
    for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'tools/build.mjs']) write(root, file, readFileSync(join(projectRoot, file)));
    symlinkSync(join(projectRoot, 'node_modules'), join(root, 'node_modules'), 'dir');
    write(root, 'src/lead/version.ts', 'export const version = 1;\n');
    for (const [script, name] of [
        ['leads', 'leads'],
        ['sendTestLead', 'send-test-lead'],
    ]) {
        write(root, `src/scripts/${script}.ts`, `import { version } from '../lead/version';\nprocess.stdout.write(\`${name} \${version} \${process.argv.slice(2).join(' ')}\\n\`);\n`);
    }
    write(root, 'src/console/static/console.css', 'body { margin: 0; }\n');
    return root;
}

/** `npm run <script> -- <args>` in `root`: its exit code and output, whether it succeeded or not. */
async function npmRun(root: string, script: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
    return promisify(execFile)('npm', ['run', '--silent', script, '--', ...args], { cwd: root }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: unknown) => {
            const failed = error as { code?: number; stdout?: string; stderr?: string };
            return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
        },
    );
}

/** Every file under dist/ with its inode, modification time and size: a file rewritten or replaced shows. */
function distFiles(root: string): Map<string, string> {
    const dist = join(root, 'dist');
    return new Map(
        readdirSync(dist, { recursive: true, withFileTypes: true })
            .filter((entry) => entry.isFile())
            .map((entry) => {
                const path = join(entry.parentPath, entry.name);
                const { ino, mtimeMs, size } = statSync(path);
                return [relative(dist, path), `inode ${ino}, modified ${mtimeMs}, ${size} bytes`];
            }),
    );
}

function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
    return [...new Set([...before.keys(), ...after.keys()])].filter((path) => before.get(path) !== after.get(path)).sort();
}

describe('npm run leads and npm run send-test-lead build dist/ only when it is stale, and never delete from it', () => {
    it('reuse a current build: after npm run build, they compile nothing and leave every file of dist/ as it was', async (t) => {
        const root = project(t);
        const built = await npmRun(root, 'build');
        assert.equal(built.code, 0, built.stderr);
        const before = distFiles(root);
        assert.ok(before.has(stamp) && before.has('src/console/static/console.css'), [...before.keys()].join(', '));
        for (const script of ['leads', 'send-test-lead']) {
            const run = await npmRun(root, script, ['list']);
            assert.equal(run.code, 0, run.stderr);
            assert.equal(run.stdout, `${script} 1 list\n`);
            assert.doesNotMatch(run.stderr, /compil/);
            assert.deepEqual(changedFiles(before, distFiles(root)), [], `npm run ${script} changed dist/`);
        }
    });

    it('compile again when a source changed, replacing only the files whose content changed, and no file of dist/ is ever missing', async (t) => {
        const root = project(t);
        assert.equal((await npmRun(root, 'build')).code, 0);
        const built = distFiles(root);
        const later = new Date(Date.now() + 60_000);
        utimesSync(join(root, 'src/lead/version.ts'), later, later);
        const touched = await npmRun(root, 'leads', ['list']);
        assert.equal(touched.stdout, 'leads 1 list\n', touched.stderr);
        assert.match(touched.stderr, /^The sources changed since dist\/ was built: compiling \(dist\/ is updated in place; nothing in it is deleted\)\.\n$/);
        const recompiled = distFiles(root);
        assert.deepEqual(changedFiles(built, recompiled), [stamp], 'the same output: only the stamp is new');

        write(root, 'src/lead/version.ts', 'export const version = 2;\n');
        const missing = new Set<string>();
        const watch = setInterval(() => {
            for (const path of recompiled.keys()) if (!existsSync(join(root, 'dist', path))) missing.add(path);
        }, 2);
        const changed = await npmRun(root, 'leads', ['list']).finally(() => clearInterval(watch));
        assert.equal(changed.stdout, 'leads 2 list\n', changed.stderr);
        assert.deepEqual([...missing], [], 'a file of dist/ went missing during the build');
        assert.deepEqual(changedFiles(recompiled, distFiles(root)), [stamp, 'src/lead/version.js']);
        assert.deepEqual(
            readdirSync(root).filter((name) => name.startsWith('dist-')),
            [],
            'the compile folder beside dist/ is removed',
        );
    });

    it('leave dist/ as it was and run nothing when the compile fails, and compile once it is fixed', async (t) => {
        const root = project(t);
        assert.equal((await npmRun(root, 'build')).code, 0);
        const built = distFiles(root);
        write(root, 'src/lead/version.ts', 'export const version: number = "two";\n');
        const failed = await npmRun(root, 'leads', ['list']);
        assert.notEqual(failed.code, 0);
        assert.equal(failed.stdout, '', 'the compiler reports on stderr, never in the command output');
        assert.match(failed.stderr, /error TS2322/);
        assert.match(failed.stderr, /tsc failed \(exit code 2\): dist\/ is left as it was\.\n$/);
        assert.deepEqual(changedFiles(built, distFiles(root)), []);

        write(root, 'src/lead/version.ts', 'export const version = 3;\n');
        const fixed = await npmRun(root, 'leads', ['list']);
        assert.equal(fixed.stdout, 'leads 3 list\n', fixed.stderr);
    });
});
