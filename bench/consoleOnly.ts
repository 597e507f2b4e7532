import { startAzurite } from '../src/host/azurite';
import { benchConsoleList } from './consoleList';

/**
 * The console part of `npm run bench` alone, on an Azurite of its own: `npm run bench:console`
 * (BENCH_OLDER leads, 100,000 by default; BENCH_ROUNDS rounds). Prints the figures as JSON and
 * writes no results file.
 */
async function main(): Promise<void> {
    const azurite = await startAzurite();
    try {
        const result = await benchConsoleList(azurite, Number(process.env.BENCH_OLDER ?? 100_000), Number(process.env.BENCH_ROUNDS ?? 5));
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } finally {
        await azurite.stop();
    }
}

main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
});
