import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { expandGlob } from '../../src/host/glob';

/*
 * What azd does with a `host: function`, `language: ts` service's `dist` folder, after Azure/azure-dev
 * at ae35809f496491989273d0edefdeb70f245f399b (release 1.31.2 has the same code), each function named
 * where it is followed.
 */

/** The ignore file of a function service (ServiceTarget AzureFunctionTarget's IgnoreFile). */
const ignoreFile = '.funcignore';

/**
 * resolveFunctionAppRemoteBuild (pkg/project/service_target_functionapp.go) for JavaScript and
 * TypeScript, where the service folder has no .funcignore: the `remoteBuild` of azure.yaml when it
 * is set, else true (the platform then installs the dependencies itself).
 */
export function azdRemoteBuild(serviceFolder: string, remoteBuild: boolean | undefined): boolean {
    if (existsSync(join(serviceFolder, ignoreFile))) throw new Error(`${serviceFolder} has a ${ignoreFile}, which this model of azd does not read.`);
    return remoteBuild ?? true;
}

/**
 * createDeployableZip (pkg/project/project_utils.go) over the package folder when it has no
 * .funcignore: no `.azure` folder, no ignore file, no local.settings.json (function hosts), and for
 * JavaScript and TypeScript no node_modules folder unless azure.yaml says `remoteBuild: false`.
 * Paths relative, "/"-separated.
 */
export function azdZippedFiles(packageFolder: string, remoteBuild: boolean | undefined): string[] {
    if (existsSync(join(packageFolder, ignoreFile))) throw new Error(`${packageFolder} has a ${ignoreFile}, which this model of azd does not read.`);
    const keepNodeModules = remoteBuild === false;
    return expandGlob(packageFolder, '**/*')
        .map((file) => relative(packageFolder, file).split(sep).join('/'))
        .filter((file) => {
            const parts = file.split('/');
            const name = parts.at(-1) ?? '';
            const folders = parts.slice(0, -1);
            if (folders.includes('.azure') || name === ignoreFile || name === 'local.settings.json') return false;
            return keepNodeModules || !folders.includes('node_modules');
        });
}
