// ESLint (flat config): TypeScript and Svelte 5 sources of the lab extension and its UI tests.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const svelte = require('eslint-plugin-svelte');
const globals = require('globals');

module.exports = tseslint.config(
  {
    ignores: [
      'labextension/',
      'lib/',
      'node_modules/',
      '.venv/',
      'ui-tests/node_modules/',
      'ui-tests/test-results/',
      'ui-tests/playwright-report/',
      'docs/_build/',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Components, and modules that use runes (.svelte.ts): Svelte's parser, TypeScript inside.
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    files: ['*.js', 'ui-tests/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
