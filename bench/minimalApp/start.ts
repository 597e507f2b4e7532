import { join } from 'node:path';
import { startHost } from '../../src/host/host';

/*
 * Serves ./receive.js with the app's own local host, as `node start.js <folder with host.json>`,
 * on PORT; prints one line once it listens, and stops on Ctrl-C or SIGTERM.
 */
async function main(): Promise<void> {
    const root = process.argv[2];
    if (!root) throw new Error('Usage: node start.js <folder holding host.json>');
    const host = await startHost({ root, port: Number(process.env.PORT ?? 0), files: [join(__dirname, 'receive.js')] });
    process.stdout.write(`Minimal app ready on ${host.url}\n`);
    const stop = () => void host.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
});
