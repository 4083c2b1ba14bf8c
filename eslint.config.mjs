import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.closeloop/', 'coverage/', 'bench/out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    // `npm test` runs on the project's own fixtures (test/fixtures): only the contract suite
    // (test/contract) reads the third-party samples beside the checkout. The scanner parser tests
    // (test/unit/connectors/sources) move to their own fixtures on the sources branch; until then the
    // transitional re-export in test/support/fixtures.ts serves them and only them.
    files: ['test/unit/**/*.ts', 'test/integration/**/*.ts', 'test/e2e/**/*.ts', 'test/support/**/*.ts'],
    ignores: [
      'test/unit/connectors/sources/**',
      'test/support/shared-fixtures.ts',
      'test/support/contract-setup.ts',
      'test/support/fixtures.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@test/support/shared-fixtures', '**/shared-fixtures'],
              message:
                'The third-party samples are for the contract suite (test/contract) only: use test/fixtures (@test/support/fixtures) or samples/.',
            },
          ],
          paths: [
            {
              name: '@test/support/fixtures',
              importNames: [
                'FIXTURES',
                'fixturePath',
                'readFixtureJson',
                'readFixtureLines',
                'readCassette',
                'FIXTURE_SECRETS',
              ],
              message:
                'These read the third-party samples (a transitional re-export): use ownFixturePath, readOwnFixtureJson, reportFixture and REPORT_FIXTURE_SECRETS.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
