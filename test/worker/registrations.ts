import { appEntryFiles, loadFunctions } from '../../src/host/loadApp';
import { buildRoot, projectRoot } from '../helpers/samples';

interface Registered {
    name: string;
    queueName?: string;
}

/** As the worker: the functions `@azure/functions` registered through `@azure/functions-core` (the fake, by NODE_PATH). */
async function registeredWithWorker(files: readonly string[]): Promise<Registered[]> {
    const { core, isTrigger } = await import('./invoke');
    for (const file of files) await import(file);
    return [...core.registered.values()].map(({ metadata }) => {
        const trigger = Object.values(metadata.bindings).find((b) => b.direction === 'in' && isTrigger(b));
        return { name: metadata.name, queueName: trigger?.type === 'queueTrigger' ? String(trigger.queueName) : undefined };
    });
}

/** As the local host (`npm start`): the definitions its loader collects from the same files. */
function loadedByLocalHost(files: readonly string[]): Registered[] {
    return loadFunctions(files).map((f) => ({ name: f.name, queueName: f.kind === 'queue' ? f.options.queueName : undefined }));
}

/*
 * Run as `node registrations.js [--local-host]` with the app settings to try in the environment
 * (and, without --local-host, NODE_PATH from fakeCoreModules.ts): loads the app's files and prints,
 * as its last line, each function's name and its queue, if it has a queue trigger.
 */
async function main(): Promise<void> {
    const files = appEntryFiles(projectRoot, buildRoot);
    const functions = process.argv[2] === '--local-host' ? loadedByLocalHost(files) : await registeredWithWorker(files);
    process.stdout.write(`\n${JSON.stringify(functions)}\n`);
}

main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
});
