import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRoot } from './samples';

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
        });
    });
}

export function tempDir(prefix: string): string {
    return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

export interface RunningApp {
    url: string;
    child: ChildProcess;
    output(): string;
    /** Sends the signal (Ctrl-C by default) and resolves with the exit code. */
    stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs the app as `npm start` does (the built CLI), with extra environment and arguments, and
 * resolves once it says it is ready. With `ownGroup` it leads a process group of its own, as a
 * command in a terminal does, so that a test can send a signal to the whole group (Ctrl-C).
 */
export function startApp(options: { env: Record<string, string>; args?: string[]; port: number; ownGroup?: boolean }): Promise<RunningApp> {
    const args = options.args ?? ['--settings', join(tempDir('settings'), 'local.settings.json')];
    // The start-up check of the destinations would call each test's look-alikes: a test that wants it enables it.
    const env: NodeJS.ProcessEnv = { ...process.env, 'AzureWebJobs.checkDestinations.Disabled': 'true', ...options.env, PORT: String(options.port) };
    const child = spawn(process.execPath, [join(buildRoot, 'src', 'host', 'cli.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.ownGroup === true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const app: RunningApp = {
        url: `http://localhost:${options.port}`,
        child,
        output: () => output,
        async stop(signal = 'SIGINT') {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
        },
    };
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`The app did not start within 30 s:\n${output}`));
        }, 30_000);
        const check = () => {
            if (output.includes('Press Ctrl-C to stop.')) {
                clearTimeout(timer);
                child.stdout.off('data', check);
                resolve(app);
            }
        };
        child.stdout.on('data', check);
        void exited.then((code) => {
            clearTimeout(timer);
            reject(new Error(`The app exited with code ${code} before it was ready:\n${output}`));
        });
    });
}

/** Runs `use` against a started app and always stops the app afterwards; resolves with its exit code. */
export async function withApp(options: Parameters<typeof startApp>[0], use: (app: RunningApp) => Promise<void>): Promise<number | null> {
    const app = await startApp(options);
    try {
        await use(app);
    } catch (error) {
        await app.stop('SIGINT');
        throw error;
    }
    return app.stop('SIGINT');
}

/** POSTs a lead as JSON to a running app, expects 202, and returns the lead id. */
export async function postLead(appUrl: string, body: unknown): Promise<string> {
    const response = await fetch(`${appUrl}/api/leads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (response.status !== 202) throw new Error(`POST /api/leads answered ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { id: string }).id;
}
