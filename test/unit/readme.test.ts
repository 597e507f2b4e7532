import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { settingsSchema } from '../../src/config/settings';
import { parseLead } from '../../src/intake/parseLead';
import { projectRoot } from '../helpers/samples';

const read = (path: string) => readFileSync(join(projectRoot, path), 'utf8');
const readme = read('README.md');
const docs = readdirSync(join(projectRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);

/** The shell blocks of a Markdown text, each as its commands (comments and blank lines dropped). */
function shellBlocks(text: string): string[][] {
    return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
        (m[1] ?? '')
            .split('\n')
            .map((line) => line.replace(/#.*$/, '').trim())
            .filter(Boolean),
    );
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, each space a hyphen. */
function anchorOf(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/ /g, '-');
}

function anchorsOf(text: string): Set<string> {
    const withoutCode = text.replace(/```[\s\S]*?```/g, '');
    return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1] ?? '')));
}

describe("the README: a newcomer's first ten minutes", () => {
    it('starts with running it: npm ci && npm start, then npm test, and no lint in that block', () => {
        assert.deepEqual(shellBlocks(readme)[0], ['npm ci && npm start', 'npm test']);
    });

    it('sends a lead from a file inside the repository, in the marketplace format, that the intake takes as a lead', () => {
        const curl = shellBlocks(readme)
            .flat()
            .find((line) => line.startsWith('curl '));
        assert.ok(curl, 'the README has a curl command');
        assert.match(curl, /-X POST http:\/\/localhost:7071\/api\/leads /);
        assert.match(curl, /-H 'content-type: application\/json'/);
        const file = /-d @(\S+)/.exec(curl)?.[1] ?? '';
        const path = resolve(projectRoot, file);
        assert.ok(!relative(projectRoot, path).startsWith('..'), `${file} is inside the repository`);
        assert.ok(existsSync(path), `${file} exists`);
        const lead = parseLead(readFileSync(path, 'utf8'), 'json', { receivedAt: new Date(), receiptId: 'readme' });
        assert.deepEqual([lead.source, lead.action, lead.offer, lead.isTest], ['AzureMarketplace', 'INS', 'contoso.contoso-analytics-byol', false]);
        // Obviously fictional: a reserved domain (RFC 2606) and a 555-01xx telephone number.
        assert.match(lead.customer.email, /\.example$/);
        assert.match(lead.customer.phone, /555 01\d\d$/);
    });

    it("names the console's address that npm start prints", () => {
        assert.match(readme, /<http:\/\/localhost:7071\/api\/console>/);
    });

    it('goes run, send, console, destination, deploy, Partner Center, in that order, before the reference', () => {
        const steps = ['Run it', 'Send a lead', 'Open the console', 'Add a destination', 'Deploy', 'Connect Partner Center', '## Reference'];
        const at = steps.map((step) => readme.indexOf(step));
        assert.ok(
            at.every((index) => index >= 0),
            `${steps.filter((_, i) => at[i] === -1).join(', ')} missing`,
        );
        assert.deepEqual(
            [...at].sort((a, b) => a - b),
            at,
        );
    });
});

describe('the reference in docs/', () => {
    it('every relative link of the README and docs/ names a file that exists, and a heading it has', () => {
        const broken: string[] = [];
        for (const file of ['README.md', ...docs]) {
            const text = read(file)
                .replace(/```[\s\S]*?```/g, '')
                .replace(/`[^`\n]*`/g, '');
            for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
                const target = match[1] ?? '';
                if (/^[a-z]+:/i.test(target)) continue;
                const [path = '', anchor] = target.split('#');
                const linked = path ? join(dirname(file), path) : file;
                if (!existsSync(join(projectRoot, linked))) broken.push(`${file}: ${target} (no such file)`);
                else if (anchor && linked.endsWith('.md') && !anchorsOf(read(linked)).has(anchor)) broken.push(`${file}: ${target} (no such heading)`);
            }
        }
        assert.deepEqual(broken, []);
    });

    it('the README links every file of docs/', () => {
        assert.deepEqual(
            docs.filter((file) => !readme.includes(`](${file})`)),
            [],
        );
    });

    it('documents every setting the app reads', () => {
        const text = docs.map(read).join('\n');
        const identity = (name: string) => name.startsWith('AzureWebJobsStorage__') && text.includes(`\`__${name.split('__')[1] ?? ''}\``);
        assert.deepEqual(
            Object.keys(settingsSchema.shape).filter((name) => !text.includes(`\`${name}\``) && !identity(name)),
            [],
        );
    });
});
