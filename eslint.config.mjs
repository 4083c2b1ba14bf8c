import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const CORE_IMPORTS_NO_ADAPTER = {
  regex: '^(@(connectors|functions|local|infra)(/|$)|(\\.\\./)+(connectors|functions|local|infra)(/|$))',
  message:
    'core/ is the domain: it imports no connectors, functions, local or infra (its ports live beside it; adapters implement them).',
};
const CORE_IMPORTS_NO_AWS = {
  regex: '^@aws-sdk/',
  message: 'Inside core/, only the DynamoDB adapters of core/store/ use the AWS SDK.',
};

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
    // Product code throws the module error classes (core/shared/errors.ts and each module's own).
    files: ['core/**/*.ts', 'connectors/**/*.ts', 'functions/**/*.ts', 'local/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Error'], CallExpression[callee.name='Error']",
          message:
            'Throw a module error class (CloseloopError or a subclass from core/shared/errors.ts), not a bare Error.',
        },
      ],
    },
  },
  // The layers. core/ is the domain and knows no adapter; only its DynamoDB adapters (core/store)
  // talk to AWS; a Lambda handler is an entry point that no other module imports.
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [CORE_IMPORTS_NO_ADAPTER, CORE_IMPORTS_NO_AWS] }],
    },
  },
  {
    files: ['core/store/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [CORE_IMPORTS_NO_ADAPTER] }] },
  },
  {
    files: ['functions/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(@functions/|\\.\\.?/)',
              message:
                'A handler is an entry point: it imports no other handler (shared code lives in connectors/ or core/).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['connectors/**/*.ts', 'local/**/*.ts', 'infra/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(@functions(/|$)|(\\.\\./)+functions(/|$))',
              message: 'Handlers are entry points: nothing imports them (move what is shared to connectors/ or core/).',
            },
          ],
        },
      ],
    },
  },
  {
    // `npm test` runs on the project's own fixtures (test/fixtures): only the contract suite
    // (test/contract) reads the third-party samples beside the checkout.
    files: ['test/unit/**/*.ts', 'test/integration/**/*.ts', 'test/e2e/**/*.ts', 'test/support/**/*.ts'],
    ignores: ['test/support/shared-fixtures.ts', 'test/support/contract-setup.ts'],
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
