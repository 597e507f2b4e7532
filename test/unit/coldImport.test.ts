import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { appEntryFiles } from '../../src/host/loadApp';
import { buildRoot, projectRoot } from '../helpers/samples';

/*
 * A cold instance loads every function file before its first answer: what they load up front is
 * paid on each cold start. The lead model, zod and the Azure SDKs load on the first invocation that
 * needs them (see src/runtime/lazy.ts); bench/run.ts measures the whole cost.
 */
describe('loading the function files', () => {
    it('loads neither zod nor the storage SDKs until a function runs', () => {
        const files = appEntryFiles(projectRoot, buildRoot);
        const script = `for (const f of ${JSON.stringify(files)}) require(f); process.stdout.write('\\n' + JSON.stringify(Object.keys(require.cache)));`;
        const loaded = JSON.parse(
            execFileSync(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] })
                .toString()
                .split('\n')
                .pop() ?? '[]',
        ) as string[];
        const heavy = loaded.filter((path) => /node_modules[\\/](zod|@azure[\\/](data-tables|storage-queue|identity))[\\/]/.test(path)).map((path) => path.replace(/.*node_modules[\\/]/, ''));
        assert.deepEqual(
            [
                ...new Set(
                    heavy.map((path) =>
                        path
                            .split(/[\\/]/)
                            .slice(0, path.startsWith('@') ? 2 : 1)
                            .join('/'),
                    ),
                ),
            ],
            [],
        );
    });
});
