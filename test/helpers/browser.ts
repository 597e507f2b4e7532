import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, which .ci/run installs: no browser is downloaded here. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium, with a fresh profile of Playwright's, that makes no connection of its own: on a machine without a network, its
 * background services would otherwise knock on closed doors at every start.
 */
export async function launchBrowser(): Promise<Browser> {
    if (!existsSync(chromiumPath)) throw new Error(`There is no Chromium at ${chromiumPath}: install Debian's chromium package (apt-get install chromium), or set CHROMIUM_PATH.`);
    return chromium.launch({
        executablePath: chromiumPath,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
}
