import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';

/** Azurite's well-known development account; not a secret. */
const devAccount = 'devstoreaccount1';
const devKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzurePorts {
    blob: number;
    queue: number;
    table: number;
}

export const defaultAzuritePorts: AzurePorts = { blob: 10000, queue: 10001, table: 10002 };

export interface AzuriteOptions {
    /** Folder for its data; in memory when not given. */
    location?: string;
    /** Ports to listen on; 0 picks free ones. */
    ports?: AzurePorts;
}

export interface Azurite {
    ports: AzurePorts;
    connectionString: string;
    stop(): Promise<void>;
}

/** The connection string for the development account at given ports. */
export function azuriteConnectionString(ports: AzurePorts): string {
    const endpoint = (port: number) => `http://127.0.0.1:${port}/${devAccount}`;
    return [
        'DefaultEndpointsProtocol=http',
        `AccountName=${devAccount}`,
        `AccountKey=${devKey}`,
        `BlobEndpoint=${endpoint(ports.blob)}`,
        `QueueEndpoint=${endpoint(ports.queue)}`,
        `TableEndpoint=${endpoint(ports.table)}`,
    ].join(';');
}

/** True when something accepts connections on the port. */
export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = connect({ port, host });
        socket.once('connect', () => {
            socket.destroy();
            resolve(true);
        });
        socket.once('error', () => resolve(false));
    });
}

function stopChild(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
            clearTimeout(kill);
            resolve();
        });
        child.kill('SIGTERM');
    });
}

/**
 * Starts Azurite from the npm package, with the flags the Azure SDKs need here
 * (`--skipApiVersionCheck`, `--disableTelemetry`), and resolves once its services listen.
 */
export function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
    const ports = options.ports ?? { blob: 0, queue: 0, table: 0 };
    const args = [
        join(__dirname, 'azuriteChild.js'),
        '--skipApiVersionCheck',
        '--disableTelemetry',
        '--blobPort',
        String(ports.blob),
        '--queuePort',
        String(ports.queue),
        '--tablePort',
        String(ports.table),
        ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']),
    ];
    // A process group of its own (POSIX): Ctrl-C in a terminal signals only the app, which lets its
    // runs finish before it stops Azurite. Signalled too, Azurite closed at once, and a digest run
    // under way could not record its send: the digest went again when its lease ran out.
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    return new Promise((resolve, reject) => {
        let output = '';
        const listening: Partial<AzurePorts> = {};
        const fail = (why: string) => {
            clearTimeout(timer);
            child.kill('SIGKILL');
            reject(new Error(`Azurite did not start: ${why}\n${output.slice(-2000)}`));
        };
        const timer = setTimeout(() => fail('it was not listening after 30 seconds.'), 30_000);
        const onData = (chunk: Buffer) => {
            if (output.length < 20_000) output += chunk.toString();
            for (const match of output.matchAll(/Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/[^:]+:(\d+)/g)) {
                listening[(match[1] ?? '').toLowerCase() as keyof AzurePorts] = Number(match[2]);
            }
            if (listening.blob && listening.queue && listening.table) {
                clearTimeout(timer);
                child.stdout.removeListener('data', onData);
                child.stdout.resume();
                child.stderr.resume();
                const started = listening as AzurePorts;
                resolve({ ports: started, connectionString: azuriteConnectionString(started), stop: () => stopChild(child) });
            }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.once('exit', (code) => fail(`it exited with code ${code}.`));
        child.once('error', (error) => fail(error.message));
    });
}
