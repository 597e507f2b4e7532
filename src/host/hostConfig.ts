import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseTimeSpan } from './timespan';

const timeSpan = z.string().transform((text, ctx) => {
    try {
        return parseTimeSpan(text);
    } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
    }
});

/** The queue settings of host.json, with the Functions defaults for what it leaves out. */
const queuesSchema = z.object({
    maxPollingInterval: timeSpan.default(60_000),
    visibilityTimeout: timeSpan.default(0),
    batchSize: z.number().int().min(1).max(32).default(16),
    newBatchThreshold: z.number().int().min(0).optional(),
    maxDequeueCount: z.number().int().min(1).default(5),
    messageEncoding: z.enum(['base64', 'none']).default('base64'),
});

const hostJsonSchema = z.object({
    version: z.literal('2.0', { message: 'host.json must say "version": "2.0"' }),
    functionTimeout: timeSpan.default(30 * 60_000),
    extensions: z
        .object({
            http: z.object({ routePrefix: z.string().default('api') }).prefault({}),
            queues: queuesSchema.prefault({}),
        })
        .prefault({}),
});

export type QueuesConfig = z.infer<typeof queuesSchema> & { newBatchThreshold: number };

export interface HostConfig {
    functionTimeoutMs: number;
    routePrefix: string;
    queues: QueuesConfig;
}

/** Reads host.json as the Functions host does, so `func start` and this host behave alike. */
export function readHostConfig(root: string): HostConfig {
    const file = join(root, 'host.json');
    const parsed = hostJsonSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
        throw new Error(`${file} is not valid: ${problems.join('; ')}.`);
    }
    const { functionTimeout, extensions } = parsed.data;
    const { queues } = extensions;
    return {
        functionTimeoutMs: functionTimeout,
        routePrefix: extensions.http.routePrefix.replace(/^\/+|\/+$/g, ''),
        queues: { ...queues, newBatchThreshold: queues.newBatchThreshold ?? Math.floor(queues.batchSize / 2) },
    };
}
