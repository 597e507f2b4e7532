import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/processes';

/**
 * A folder for NODE_PATH in which `@azure/functions-core` is the fake of the worker's module
 * (fakeFunctionsCore.ts in `buildRoot`): a child process started with it runs `@azure/functions`
 * outside its test mode, registering and converting with the library's own code as in Azure.
 */
export function fakeCoreNodePath(buildRoot: string): string {
    const modules = join(tempDir('functions-core'), 'node_modules');
    mkdirSync(join(modules, '@azure', 'functions-core'), { recursive: true });
    const fake = join(buildRoot, 'test', 'worker', 'fakeFunctionsCore.js');
    writeFileSync(join(modules, '@azure', 'functions-core', 'index.js'), `module.exports = require(${JSON.stringify(fake)});\n`);
    return modules;
}
