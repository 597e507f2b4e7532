// ESLint: @eslint/js recommended plus typescript-eslint's strictTypeChecked, type-aware over src/,
// test/ and bench/ (the files tsconfig.json includes). Formatting is Prettier's (npm run lint runs both).
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
    { ignores: ['dist/', 'dist-*/', '.package/', 'node_modules/', 'outbox/', '.azurite/'] },
    eslint.configs.recommended,
    tseslint.configs.strictTypeChecked,
    {
        // A disable comment that no longer suppresses anything fails the lint, so none outlives its reason.
        linterOptions: { reportUnusedDisableDirectives: 'error' },
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        // No rule is turned off; these options only narrow what a rule reports.
        rules: {
            // node:test's describe()/it() return promises that the runner itself awaits.
            '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] }],
            // Numbers are meant to print as numbers in messages; objects, arrays, null and undefined still may not be interpolated.
            '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
            // `() => resolve()` and `return send(res, 404)` in a function that returns void are the usual idiom; a void used as a value is still reported.
            '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true }],
            // `const { delivery: _, ...lead } = x` is how a field is left out of a copy.
            '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
        },
    },
    // The console's script runs in the browser, with the browser's globals.
    { files: ['src/console/static/*.js'], languageOptions: { globals: { document: 'readonly', fetch: 'readonly', FormData: 'readonly', window: 'readonly', URL: 'readonly', Intl: 'readonly' } } },
    // azd's hook and the build are scripts that Node.js runs as they are.
    { files: ['infra/hooks/*.mjs', 'tools/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } } },
    // dependency-cruiser's rules are a CommonJS module that it loads itself.
    { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } } },
    // This file itself is plain JavaScript, outside tsconfig.json.
    { files: ['**/*.mjs', '**/*.js', '**/*.cjs'], extends: [tseslint.configs.disableTypeChecked] },
);
