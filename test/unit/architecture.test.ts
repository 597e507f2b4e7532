import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../helpers/samples';

const page = readFileSync(join(projectRoot, 'docs/ARCHITECTURE.md'), 'utf8');

/** The folders the code map's table names, one row each: "| `src/deliver/` | … |". */
function mappedFolders(): string[] {
    return [...page.matchAll(/^\| `src\/([a-z]+)\/` \|/gm)].map((match) => match[1] ?? '');
}

describe('docs/ARCHITECTURE.md', () => {
    it('maps every folder of src/, and none that is not there', () => {
        const folders = readdirSync(join(projectRoot, 'src'), { withFileTypes: true })
            .filter((entry) => entry.isDirectory())
            .map((entry) => entry.name);
        assert.deepEqual(mappedFolders().sort(), folders.sort());
    });

    it('names each folder of src/ once in its layers, in the order .dependency-cruiser.cjs checks them', () => {
        const rules = readFileSync(join(projectRoot, '.dependency-cruiser.cjs'), 'utf8');
        const group = (name: string) => (new RegExp(`const ${name} = '\\^src/\\(([a-z|]+)\\)/'`).exec(rules)?.[1] ?? '').split('|');
        const layers = page.slice(page.indexOf('## Code map'), page.indexOf('| Folder |'));
        const listed = (label: string) => [...(new RegExp(`\\*\\*${label}\\*\\*:? ([^.;]+)`).exec(layers)?.[1] ?? '').matchAll(/`src\/([a-z]+)\/`/g)].map((m) => m[1]);
        assert.deepEqual(listed('Features'), group('features'));
        assert.deepEqual(listed('Shared modules'), group('shared'));
        assert.deepEqual(listed('commands'), group('commands'));
    });
});
