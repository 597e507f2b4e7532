/*
 * How Azure Functions Core Tools reads .funcignore when it builds the zip for
 * `func azure functionapp publish`, after Azure/azure-functions-core-tools
 * src/Cli/func/Common/GitIgnoreParser.cs (commit 4589f9fb266f545345d24aa76565cc5a2fc2330e, a port
 * of codemix/gitignore-parser): a leading "/" is dropped, and every pattern is then matched from
 * the start of the path, so "*.js.map" leaves out only maps at the root; "**" spans folders.
 */

function patternSource(pattern: string): string {
    return pattern
        .replace(/[-[\]/{}()+?.\\^$|]/g, '\\$&')
        .replace(/\*\*/g, '(.+)')
        .replace(/\*/g, '([^\\/]+)');
}

function matcher(patterns: string[]): RegExp {
    return patterns.length > 0 ? new RegExp(`^((${patterns.map(patternSource).join(')|(')}))\\b`) : /$^/;
}

/** Whether Core Tools leaves a path (relative, "/"-separated) out of the zip. */
export function coreToolsIgnores(funcignore: string): (path: string) => boolean {
    const lines = funcignore
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'));
    const strip = (line: string) => line.replace(/^!/, '').replace(/^\//, '');
    const positive = matcher(
        lines
            .filter((line) => !line.startsWith('!'))
            .map(strip)
            .sort(),
    );
    const negative = matcher(
        lines
            .filter((line) => line.startsWith('!'))
            .map(strip)
            .sort(),
    );
    return (path) => positive.test(path) && !negative.test(path);
}
