import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

function segmentMatcher(segment: string): RegExp {
    const pattern = segment
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]');
    return new RegExp(`^${pattern}$`);
}

/** Files matching a glob of `*`, `?` and `**` segments, relative to `root`, sorted. */
export function expandGlob(root: string, pattern: string): string[] {
    const walk = (dir: string, segments: string[]): string[] => {
        const [segment, ...rest] = segments;
        if (segment === undefined) return [dir];
        if (segment === '**') {
            const deeper = listDirs(dir).flatMap((sub) => walk(join(dir, sub), segments));
            return [...walk(dir, rest), ...deeper];
        }
        if (!/[*?]/.test(segment)) return exists(join(dir, segment)) ? walk(join(dir, segment), rest) : [];
        const matcher = segmentMatcher(segment);
        return listEntries(dir)
            .filter((name) => matcher.test(name))
            .flatMap((name) => walk(join(dir, name), rest));
    };
    return [...new Set(walk(resolve(root), pattern.split('/').filter(Boolean)))].filter(isFile).sort();
}

function listEntries(dir: string): string[] {
    try {
        return readdirSync(dir);
    } catch {
        return [];
    }
}

function listDirs(dir: string): string[] {
    return listEntries(dir).filter((name) => !isFile(join(dir, name)));
}

function exists(path: string): boolean {
    try {
        statSync(path);
        return true;
    } catch {
        return false;
    }
}

function isFile(path: string): boolean {
    try {
        return statSync(path).isFile();
    } catch {
        return false;
    }
}
