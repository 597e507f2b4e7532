import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Written by `npm run package` beside the compiled app (dist/src): a new id for every package, so for every deployment. */
export const deploymentFileName = 'deployment.json';

/** The id of the package this app was deployed from; undefined where it runs from a build (npm start, tests). */
export function deploymentId(appRoot = join(__dirname, '..')): string | undefined {
    const file = join(appRoot, deploymentFileName);
    if (!existsSync(file)) return undefined;
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const id = typeof parsed === 'object' && parsed !== null ? (parsed as { id?: unknown }).id : undefined;
    return typeof id === 'string' && id !== '' ? id : undefined;
}
