import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The project folder, from dist/test/helpers. */
export const projectRoot = resolve(__dirname, '..', '..', '..');

/** The folder the tests were built into (dist, or another outDir a parallel build used). */
export const buildRoot = resolve(__dirname, '..', '..');

/** ../shared/reference/samples beside the project, as CI lays it out. */
export const samplesDir = resolve(projectRoot, '..', 'shared', 'reference', 'samples');

export function sampleText(name: string): string {
    return readFileSync(join(samplesDir, name), 'utf8');
}

/** The documented HTTPS endpoint example body. */
export function documentedSample(): Record<string, unknown> {
    return JSON.parse(sampleText('https-endpoint-example.json')) as Record<string, unknown>;
}

/** The documented MSFT_TEST field list (`key = value` lines) as a web-to-lead form body. */
export function msftTestForm(): URLSearchParams {
    const form = new URLSearchParams();
    for (const line of sampleText('msft-test-lead.txt').split(/\r?\n/)) {
        const at = line.indexOf(' = ');
        if (at > 0) form.append(line.slice(0, at).trim(), line.slice(at + 3).trim());
    }
    return form;
}
