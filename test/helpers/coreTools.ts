import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { expandGlob } from '../../src/host/glob';

/*
 * What Azure Functions Core Tools does for `func azure functionapp publish <app> [flags]`, as far
 * as it can be followed offline: which worker runtime it settles on, and which files it zips. After
 * Azure/azure-functions-core-tools at 3ee97a6337055edd6afe48f9a51786a09772f427 (the files cited are
 * the same in release 4.13.0), each function named where it is followed.
 */

export type WorkerRuntime = 'node' | 'dotnet' | 'dotnet-isolated' | 'java' | 'python' | 'powershell' | 'custom' | 'go' | 'none';

/** The flags GlobalCoreToolsSettings.Init looks for in the whole command line, in its order; the first one there wins. */
const runtimeFlags: readonly (readonly [string, WorkerRuntime])[] = [
    ['--csharp', 'dotnet'],
    ['--dotnet', 'dotnet'],
    ['--dotnet-isolated', 'dotnet-isolated'],
    ['--javascript', 'node'],
    ['--typescript', 'node'],
    ['--node', 'node'],
    ['--java', 'java'],
    ['--python', 'python'],
    ['--powershell', 'powershell'],
    ['--custom', 'custom'],
    ['--go', 'go'],
    ['--golang', 'go'],
];

/** WorkerRuntimeLanguageHelper.NormalizeWorkerRuntime: the enum names and their aliases, case-insensitive. */
function normalizeWorkerRuntime(setting: string | undefined): WorkerRuntime {
    const value = (setting ?? '').trim().toLowerCase();
    if (['node', 'js', 'javascript', 'typescript', 'ts'].includes(value)) return 'node';
    if (['dotnet', 'csharp'].includes(value)) return 'dotnet';
    if (['dotnet-isolated', 'dotnetisolated'].includes(value)) return 'dotnet-isolated';
    if (['java', 'python', 'powershell', 'custom', 'go'].includes(value)) return value as WorkerRuntime;
    return 'none';
}

/**
 * ScriptHostHelpers.GetFunctionAppRootDirectory: from the current folder up to the first one that
 * holds host.json or local.settings.json (SecretsManager.AppSettingsFilePath reads the file there).
 */
export function functionAppRoot(cwd: string): string {
    for (let folder = cwd; ; folder = dirname(folder)) {
        if (existsSync(join(folder, 'host.json')) || existsSync(join(folder, 'local.settings.json'))) return folder;
        if (dirname(folder) === folder) return cwd;
    }
}

/** FUNCTIONS_WORKER_RUNTIME from local.settings.json as AppSettingsFile reads it: missing file, no values; IsEncrypted defaults to true, and then decryption fails. */
function localSettingsRuntime(root: string): string | undefined {
    const path = join(root, 'local.settings.json');
    if (!existsSync(path)) return undefined;
    try {
        const file = JSON.parse(readFileSync(path, 'utf8')) as { IsEncrypted?: boolean; Values?: Record<string, string> };
        if (file.IsEncrypted !== false) return undefined;
        return Object.entries(file.Values ?? {}).find(([name]) => name.toLowerCase() === 'functions_worker_runtime')?.[1];
    } catch {
        return undefined;
    }
}

/**
 * The worker runtime publish runs with: GlobalCoreToolsSettings.Init's flags (an exact match in the
 * whole command line), else WorkerRuntimeLanguageHelper.GetCurrentWorkerRuntimeLanguage, which reads
 * FUNCTIONS_WORKER_RUNTIME from the environment, then from local.settings.json; nothing is inferred
 * from package.json or other files. 'none' makes PublishFunctionAppAction.RunAsync stop with
 * "Worker runtime cannot be 'None'. Please set a valid runtime."
 */
export function publishWorkerRuntime(args: readonly string[], env: Record<string, string | undefined>, cwd: string): WorkerRuntime {
    const flag = runtimeFlags.find(([name]) => args.includes(name));
    if (flag) return flag[1];
    const fromEnv = env.FUNCTIONS_WORKER_RUNTIME;
    return normalizeWorkerRuntime(fromEnv?.trim() ? fromEnv : localSettingsRuntime(functionAppRoot(cwd)));
}

/** Files FileSystemHelpers.GetLocalFiles never returns, by name at any depth, case-insensitive; and the folders it skips. */
const neverZippedFiles = ['.funcignore', '.gitignore', 'local.settings.json', 'project.lock.json'];
const neverZippedFolders = ['.git', '.vscode'];

/**
 * What publish zips from the function app root (ZipHelper.GetAppZipFile over
 * FileSystemHelpers.GetLocalFiles): every file but the ones above, when the root has no .funcignore
 * (PublishHelper.GetIgnoreParser returns none, and nothing more is left out). The staged folder
 * never has one; this model does not follow GitIgnoreParser, so it refuses a folder that does.
 * Paths relative, "/"-separated.
 */
export function publishedFiles(root: string): string[] {
    if (existsSync(join(root, '.funcignore'))) throw new Error(`${root} has a .funcignore, which this model of Core Tools does not read.`);
    return expandGlob(root, '**/*')
        .map((file) => relative(root, file).split(sep).join('/'))
        .filter((file) => {
            const parts = file.split('/');
            const name = parts.at(-1) ?? '';
            return !neverZippedFiles.includes(name.toLowerCase()) && !parts.slice(0, -1).some((folder) => neverZippedFolders.includes(folder));
        });
}
