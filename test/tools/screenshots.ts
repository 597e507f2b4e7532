import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from '../helpers/browser';
import { startConsoleScene } from '../helpers/consoleScene';
import { projectRoot } from '../helpers/samples';

/** The sizes the docs show: a laptop and a phone. */
const viewports = { '1366': { width: 1366, height: 900 }, '390': { width: 390, height: 844 } } as const;

/**
 * `npm run screenshots`: the console as it is, for docs/images. Starts Azurite and the app as the
 * tests do, posts the console scene's fictional leads (two of them end in the poison queue), and
 * saves the list and a poisoned lead's page at each size.
 */
async function screenshots(): Promise<string[]> {
    const scene = await startConsoleScene();
    const browser = await launchBrowser();
    const saved: string[] = [];
    try {
        const folder = join(projectRoot, 'docs', 'images');
        mkdirSync(folder, { recursive: true });
        const pages = { 'console-list': '/api/console', 'console-lead': `/api/console/view/${scene.ids.refused ?? ''}`, 'console-overview': '/api/console/view/overview' };
        for (const [name, path] of Object.entries(pages)) {
            for (const [size, viewport] of Object.entries(viewports)) {
                const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC' });
                const page = await context.newPage();
                await page.goto(`${scene.app.url}${path}`);
                const file = join(folder, `${name}-${size}.png`);
                await page.screenshot({ path: file, fullPage: true });
                saved.push(file);
                await context.close();
            }
        }
    } finally {
        await browser.close();
        await scene.stop();
    }
    return saved;
}

screenshots().then(
    (files) => console.log(`Saved ${files.length} screenshots:\n${files.join('\n')}`),
    (error: unknown) => {
        console.error(`The screenshots could not be taken: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
    },
);
