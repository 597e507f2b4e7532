// azd's prepackage hook (azure.yaml): stages the app in .package, the folder azd zips and deploys.
// azd 1.24 or later runs a `kind: js` hook as `node <file>`, after `npm install` in the folder of
// the nearest package.json up to the project root (azure-dev cli/azd/pkg/tools/language/js_executor.go;
// node_helpers.go, prepareNodeProject), so neither sh nor a zip program is needed, on Windows or elsewhere.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
// `npm` is a .cmd file on Windows, which Node starts only through a shell; the arguments are fixed.
const result = spawnSync('npm', ['run', 'package'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (result.error) console.error(`npm run package could not start: ${result.error.message}`);
process.exit(result.status ?? 1);
