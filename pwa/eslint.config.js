// ESLint for pwa/src (`npm run lint`). ESLint and its plugins are installed in their own package,
// pwa/lint, because typescript-eslint parses with the TypeScript 6 compiler API while the app
// builds with TypeScript 7, which has none: the two compilers cannot share one node_modules.
// The config stays here so that its paths are relative to pwa/.
import { createRequire } from 'node:module';

const fromLint = createRequire(new URL('./lint/package.json', import.meta.url));
const js = fromLint('@eslint/js');
const reactHooks = fromLint('eslint-plugin-react-hooks');
const { defineConfig } = fromLint('eslint/config');
const globals = fromLint('globals');
const tseslint = fromLint('typescript-eslint');

export default defineConfig([
  {
    files: ['src/**/*.{ts,tsx}'],
    extends: [js.configs.recommended, tseslint.configs.recommended, reactHooks.configs.flat.recommended],
    languageOptions: {
      ecmaVersion: 2022,
      globals: { ...globals.browser },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A missing hook dependency is a stale-value bug, not a style point.
      'react-hooks/exhaustive-deps': 'error',
    },
  },
]);
