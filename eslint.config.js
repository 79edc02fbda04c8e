// ESLint flat config: typescript-eslint's recommended rules, formatting left to Prettier.
// TypeScript files are also linted with type information (the project service reads
// tsconfig.json) for the promise rules: a promise nobody awaits loses its rejection, and
// a promise where a void callback is expected runs unobserved.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(fileURLToPath(import.meta.url));

export default tseslint.config(
  // .scratch/ and tmp/ are gitignored working space, not the project's code.
  { ignores: ['node_modules/', 'native/build/', 'bench/results/', 'dist/', '.scratch/', 'tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: ROOT },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
