import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionDefinition, HttpFunctionDefinition } from '../runtime/define';
import { queueServiceClientFor } from '../storage/clients';
import { storageConnection } from '../storage/connection';
import { resolveSettingReferences } from './appSettings';
import { readHostConfig, type HostConfig } from './hostConfig';
import { createHttpServer } from './httpServer';
import { appEntryFiles, loadFunctions } from './loadApp';
import { hostLog } from './log';
import { parseNcrontab } from './ncrontab';
import { QueueListener } from './queueListener';
import { routeOf } from './routes';
import { TimerScheduler } from './timerScheduler';

export interface HostOptions {
    /** The app's folder, holding package.json and host.json. */
    root: string;
    port: number;
    /**
     * The address to listen on. By default this machine only (127.0.0.1 and ::1): leads, the console
     * and the admin API are then out of reach of the network. Another address (0.0.0.0: every
     * interface) lets other machines post leads; the console and the admin API still answer only
     * connections from this machine.
     */
    listen?: string;
    /** The function files to load; by default those matching `main` in package.json. */
    files?: readonly string[];
    /** Where the app was compiled, when not `dist` (see appEntryFiles). */
    buildDir?: string;
    env?: NodeJS.ProcessEnv;
}

export interface RunningHost {
    url: string;
    port: number;
    functions: readonly FunctionDefinition[];
    /** One line per function, as `func start` lists them, but with addresses that answer. */
    describe(): string[];
    /** The address of an HTTP function (without its catch-all segment), or undefined when there is none by that name. */
    urlOf(name: string): string | undefined;
    /** Runs a timer now, as the admin API does; false when there is no such function (or it is disabled). */
    run(name: string): boolean;
    stop(): Promise<void>;
}

async function queueListenerFor(definition: Extract<FunctionDefinition, { kind: 'queue' }>, env: NodeJS.ProcessEnv, config: HostConfig): Promise<QueueListener> {
    const queueName = resolveSettingReferences(definition.options.queueName, env);
    // Like Azure: an empty connection means AzureWebJobsStorage, as a connection string or identity-based settings.
    const service = await queueServiceClientFor(storageConnection(env, definition.options.connection || 'AzureWebJobsStorage'));
    return new QueueListener({
        definition,
        queue: service.getQueueClient(queueName),
        poisonQueue: service.getQueueClient(`${queueName}-poison`),
        config: config.queues,
        functionTimeoutMs: config.functionTimeoutMs,
    });
}

/** `AzureWebJobs.<name>.Disabled` (or `AzureWebJobs__<name>__Disabled`, where dots cannot be used) switches a function off, as in Azure. */
export function isDisabled(name: string, env: NodeJS.ProcessEnv): boolean {
    const value = env[`AzureWebJobs.${name}.Disabled`] ?? env[`AzureWebJobs__${name}__Disabled`] ?? '';
    return ['true', '1'].includes(value.trim().toLowerCase());
}

function listenOn(server: Server, port: number, address: string): Promise<Server> {
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, address, () => {
            server.off('error', reject);
            resolve(server);
        });
    });
}

/** Starts a local Functions host for the app: its HTTP functions, queue listeners and timers. */
export async function startHost(options: HostOptions): Promise<RunningHost> {
    const env = options.env ?? process.env;
    const config = readHostConfig(options.root);
    const functions = loadFunctions(options.files ?? appEntryFiles(options.root, options.buildDir)).filter((f) => !isDisabled(f.name, env));
    const httpFunctions = functions.filter((f): f is HttpFunctionDefinition => f.kind === 'http');
    const listeners = await Promise.all(functions.flatMap((f) => (f.kind === 'queue' ? [queueListenerFor(f, env, config)] : [])));
    const timers = functions.flatMap((f) => (f.kind === 'timer' ? [new TimerScheduler(f, parseNcrontab(resolveSettingReferences(f.options.schedule, env)), config.functionTimeoutMs)] : []));

    const runFunction = (name: string, input: unknown): boolean => {
        const lower = name.toLowerCase();
        const timer = timers.find((t) => t.name.toLowerCase() === lower);
        if (timer) {
            timer.fire();
            return true;
        }
        const listener = listeners.find((l) => l.name.toLowerCase() === lower);
        if (!listener) return false;
        listener.runNow(input).catch(() => undefined);
        return true;
    };

    const serve = () => createHttpServer({ functions: httpFunctions, routePrefix: config.routePrefix, functionTimeoutMs: config.functionTimeoutMs, runFunction });
    const first = await listenOn(serve(), options.port, options.listen ?? '127.0.0.1');
    const port = (first.address() as AddressInfo).port;
    const servers = [first];
    // localhost may resolve to ::1 first: listen there too, on the same port, where this machine has IPv6.
    if (options.listen === undefined) {
        const ipv6 = await listenOn(serve(), port, '::1').catch((error: unknown) => {
            hostLog('information', `Not listening on [::1]:${port} (${error instanceof Error ? error.message : String(error)}); 127.0.0.1 serves localhost.`);
            return undefined;
        });
        if (ipv6) servers.push(ipv6);
    }
    const url = `http://localhost:${port}`;
    for (const listener of listeners) listener.start();
    for (const timer of timers) timer.start();

    return {
        url,
        port,
        functions,
        describe: () =>
            functions.map((f) => {
                if (f.kind === 'http') {
                    const route = routeOf(f, config.routePrefix);
                    const under = route.home === route.template ? '' : ` (and every path under it)`;
                    return `${f.name}: [${route.methods.join(',')}] ${url}${route.home}${under}`;
                }
                if (f.kind === 'queue') return `${f.name}: queueTrigger (${resolveSettingReferences(f.options.queueName, env)})`;
                return `${f.name}: timerTrigger (${resolveSettingReferences(f.options.schedule, env)})`;
            }),
        urlOf: (name) => {
            const f = httpFunctions.find((candidate) => candidate.name === name);
            return f && `${url}${routeOf(f, config.routePrefix).home}`;
        },
        run: (name) => runFunction(name, undefined),
        async stop() {
            const closed = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
            for (const server of servers) server.closeIdleConnections();
            // Requests in progress get a moment to finish; then their connections are cut.
            const graceTimer = setTimeout(() => {
                for (const server of servers) server.closeAllConnections();
            }, 5000);
            await closed;
            clearTimeout(graceTimer);
            await Promise.all([...listeners.map((l) => l.stop()), ...timers.map((t) => t.stop())]);
            hostLog('information', 'Host stopped.');
        },
    };
}
