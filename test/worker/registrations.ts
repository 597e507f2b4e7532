import { appEntryFiles } from '../../src/host/loadApp';
import { buildRoot, projectRoot } from '../helpers/samples';
import { core, isTrigger } from './invoke';

/*
 * Run as `node registrations.js` with NODE_PATH from fakeCoreModules.ts and the app settings to try
 * in the environment: loads the app's files as the worker does and prints, as its last line, each
 * registered function's name and its queue, if it has a queue trigger.
 */
async function main(): Promise<void> {
    for (const file of appEntryFiles(projectRoot, buildRoot)) await import(file);
    const functions = [...core.registered.values()].map(({ metadata }) => {
        const trigger = Object.values(metadata.bindings).find((b) => b.direction === 'in' && isTrigger(b));
        return { name: metadata.name, queueName: trigger?.type === 'queueTrigger' ? trigger.queueName : undefined };
    });
    process.stdout.write(`\n${JSON.stringify(functions)}\n`);
}

main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
});
