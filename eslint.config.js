import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', performance: 'readonly', structuredClone: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // adapters depend on the core, never on the command line: the server, the report and the
    // imaging code are used by the CLI, not the reverse
    files: ['src/server/**/*.ts', 'src/report/**/*.ts', 'src/imaging/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/cli/**', '**/cli'], message: 'src/server, src/report and src/imaging must not import from src/cli (the dependency points the other way).' },
        ],
      }],
    },
  },
  {
    // the pure core must not depend on adapters
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/io/**', '**/report/**', '**/cli/**', '**/server/**', '**/imaging/**', '**/fhir/**', '**/pacs/**', 'node:*', 'fs', 'path'], message: 'src/core is pure: no adapters (io, report, cli, server, imaging, fhir, pacs), no I/O.' },
        ],
      }],
    },
  },
);
