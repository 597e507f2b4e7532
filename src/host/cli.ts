import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigurationError, mailSettingsProblems, readSettings } from '../config/settings';
import { isDevelopmentStorage } from '../storage/connection';
import { defaultAzuritePorts, isListening, startAzurite, type Azurite } from './azurite';
import { startHost } from './host';
import { applySettings, readLocalSettings } from './localSettings';

/** The project folder: dist/src/host/cli.js sits three levels below it. */
const root = resolve(__dirname, '..', '..', '..');

const usage = `Usage: npm start [-- --settings FILE] [--azurite-location DIR] [--listen ADDRESS]

Runs the app locally: Azurite (when AzureWebJobsStorage is UseDevelopmentStorage=true) and a
Functions host serving the app's HTTP, queue and timer functions. Settings come from
local.settings.json "Values"; real environment variables win.

It listens on this machine only (127.0.0.1 and ::1). --listen 0.0.0.0 (or one address) lets
other machines post leads to it; the console and the admin API still answer only this machine.`;

function say(line: string): void {
    process.stdout.write(`${line}\n`);
}

/** Starts Azurite on its default ports unless a storage emulator already listens there. */
async function ensureAzurite(location: string): Promise<Azurite | undefined> {
    if (await isListening(defaultAzuritePorts.queue)) {
        say(`Storage: using the emulator already listening on 127.0.0.1:${defaultAzuritePorts.queue}.`);
        return undefined;
    }
    const azurite = await startAzurite({ location, ports: defaultAzuritePorts });
    say(`Storage: Azurite on 127.0.0.1:${defaultAzuritePorts.blob}-${defaultAzuritePorts.table}, data in ${relative(process.cwd(), location) || location}`);
    return azurite;
}

function portFrom(env: NodeJS.ProcessEnv, localHttpPort: number | undefined): number {
    const text = env.PORT ?? String(localHttpPort ?? 7071);
    const port = Number(text);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigurationError([`PORT is "${text}": a port is a whole number from 0 to 65535`]);
    return port;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            settings: { type: 'string', default: join(root, 'local.settings.json') },
            'azurite-location': { type: 'string', default: join(root, '.azurite') },
            listen: { type: 'string' },
            help: { type: 'boolean', short: 'h' },
        },
    });
    if (values.help) {
        say(usage);
        return;
    }

    const { settings: local, created } = readLocalSettings(values.settings, root);
    if (created) say(`Created ${relative(process.cwd(), values.settings)} from local.settings.sample.json.`);
    applySettings(local.Values, process.env);
    // The app's defaults become settings too, so bindings such as %LEADS_QUEUE% resolve as they do in Azure.
    const app = readSettings(process.env);
    const textDefaults = Object.entries(app).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
    applySettings(Object.fromEntries(textDefaults), process.env);
    const port = portFrom(process.env, local.Host?.LocalHttpPort);

    const azurite = isDevelopmentStorage(app.storage) ? await ensureAzurite(values['azurite-location']) : undefined;
    // dist/src/host/cli.js: the build this CLI belongs to is two levels up.
    const host = await startHost({ root, port, buildDir: resolve(__dirname, '..', '..'), listen: values.listen });
    say(
        values.listen === undefined
            ? `Listening on this machine only (127.0.0.1 and ::1, port ${host.port}).`
            : `Listening on ${values.listen}, port ${host.port}: other machines that reach it can post leads. The console and the admin API still answer only this machine.`,
    );
    say('\nFunctions:\n');
    for (const line of host.describe()) say(`\t${line}`);
    const consoleAddress = host.urlOf('leadConsole');
    if (consoleAddress) say(`\nConsole: ${consoleAddress} (open it in a browser on this machine)`);
    say(
        `\nMail: ${app.EMAIL_TRANSPORT === 'outbox' ? `digests are written as .eml files to ${resolve(app.OUTBOX_DIR)}` : `digests go out by ${app.EMAIL_TRANSPORT}`}${app.NOTIFY_TO.length ? ` for ${app.NOTIFY_TO.length} recipient(s)` : '; NOTIFY_TO is not set, so none are sent'}.`,
    );
    for (const problem of mailSettingsProblems(app)) say(`Mail will not go out: ${problem}.`);
    for (const problem of app.fallbacks) say(`A setting is wrong: ${problem}.`);
    say('\nPress Ctrl-C to stop.\n');
    // Before the first lead: a revoked token or a wrong field mapping shows now, in the log below.
    if (host.run('checkDestinations')) say('Checking the destinations once now (checkDestinations); the results follow in the log.');

    let stopping = false;
    const stop = async () => {
        if (stopping) return;
        stopping = true;
        say('Stopping...');
        await host.stop();
        await azurite?.stop();
        process.exit(0);
    };
    process.on('SIGINT', () => void stop());
    process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
});
