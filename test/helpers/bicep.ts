import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './samples';

/** The version tools/bicep/bicep.csproj pins. */
const version = /<BicepVersion>([^<]+)<\/BicepVersion>/.exec(readFileSync(join(projectRoot, 'tools', 'bicep', 'bicep.csproj'), 'utf8'))?.[1] ?? '';

/** How to get the compiler, for the message of a test that cannot run without it. */
export const bicepHint = `The Bicep CLI was not found: run \`dotnet restore tools/bicep --packages tools/bicep/packages\` (it restores Azure.Bicep.CommandLine.linux-x64 ${version} from NuGet, as .ci/run does), or set BICEP_PATH to a bicep binary (\`az bicep install\` puts one in ~/.azure/bin).`;

function works(path: string): boolean {
    try {
        execFileSync(path, ['--version'], { stdio: 'ignore' });
        return true;
    } catch {
        return false;
    }
}

/** The Bicep CLI: BICEP_PATH, else the one .ci/run restores, else `bicep` on the PATH; undefined if none runs. */
export function findBicep(): string | undefined {
    const restored = join(projectRoot, 'tools', 'bicep', 'packages', 'azure.bicep.commandline.linux-x64', version, 'tools', 'bicep');
    return [process.env.BICEP_PATH, existsSync(restored) ? restored : undefined, 'bicep'].find((candidate): candidate is string => Boolean(candidate) && works(candidate ?? ''));
}

/**
 * What a test does without the compiler: under CI (CI=true, as .ci/run runs) it fails, since CI
 * must check the Bicep; on a developer's machine it is skipped, saying how to get the compiler.
 */
export function bicepOrSkip(): { bicep: string } | { skip: string } {
    const bicep = findBicep();
    if (bicep) return { bicep };
    if (process.env.CI === 'true') throw new Error(`${bicepHint} Under CI=true the Bicep checks do not skip.`);
    return { skip: bicepHint };
}

export interface BicepRun {
    /** What the compiler wrote: the ARM JSON for `build --stdout`. */
    stdout: string;
    /** Its diagnostics: warnings and errors, one a line. */
    diagnostics: string[];
}

/** Runs the Bicep CLI in the project folder (in `env`, for build-params); a run that fails throws with what it said. */
export function runBicep(bicep: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): BicepRun {
    const run = spawnSync(bicep, args, { cwd: projectRoot, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (run.error) throw run.error;
    if (run.status !== 0) throw new Error(`bicep ${args.join(' ')} exited with ${String(run.status)}:\n${run.stderr}`);
    return { stdout: run.stdout, diagnostics: run.stderr.split(/\r?\n/).filter((line) => line.trim() !== '') };
}
