/**
 * The import rules of src/, checked by `npm run lint` (dependency-cruiser). The layers, from the
 * top: the function files; the features (intake, deliver, notify, alert, console, import, check)
 * and the commands around them (scripts, host); the shared modules (store, storage, config, queue,
 * runtime, csv); the lead model. Each may import only its own layer or those below it.
 */
const features = '^src/(intake|deliver|notify|alert|console|import|check)/';
const commands = '^src/(scripts|host)/';
const shared = '^src/(store|storage|config|queue|runtime|csv)/';

module.exports = {
    forbidden: [
        {
            name: 'no-circular',
            comment: 'An import cycle ties modules that should be read, tested and changed apart.',
            severity: 'error',
            from: {},
            to: { circular: true },
        },
        {
            name: 'src-not-to-tests',
            comment: 'The app never loads test or bench code: neither is deployed.',
            severity: 'error',
            from: { path: '^src/' },
            to: { path: '^(test|bench|tools)/' },
        },
        {
            name: 'lead-is-pure',
            comment: 'The lead model is pure: nothing but itself, node:crypto and zod (no storage, no network, no settings).',
            severity: 'error',
            from: { path: '^src/lead/' },
            to: { pathNot: ['^src/lead/', '^crypto$', '^node_modules/zod/'] },
        },
        {
            name: 'shared-not-to-features',
            comment: 'A shared module serves every feature, so it imports none of them, nor the commands or function files.',
            severity: 'error',
            from: { path: `${shared}|^src/lead/` },
            to: { path: [features, commands, '^src/functions/'] },
        },
        {
            name: 'features-not-to-commands-or-functions',
            comment: 'A feature is called by the function files and the commands, never the other way round.',
            severity: 'error',
            from: { path: features },
            to: { path: [commands, '^src/functions/'] },
        },
        {
            name: 'commands-not-to-functions',
            comment: 'The local host loads the function files by their paths (package.json "main"), never by import.',
            severity: 'error',
            from: { path: commands },
            to: { path: '^src/functions/' },
        },
    ],
    options: {
        doNotFollow: { path: 'node_modules' },
        tsConfig: { fileName: 'tsconfig.json' },
        tsPreCompilationDeps: true,
    },
};
