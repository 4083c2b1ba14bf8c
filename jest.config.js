// Four suites that each run alone: `npm run test:unit|test:integration|test:e2e` (together `npm test`,
// on the project's own fixtures) and `npm run test:contract` (the third-party samples beside the checkout).
const transform = { '^.+\\.ts$': '<rootDir>/test/support/esbuild-jest-transform.js' };
const moduleNameMapper = {
  '^@core/(.*)$': '<rootDir>/core/$1',
  '^@connectors/(.*)$': '<rootDir>/connectors/$1',
  '^@functions/(.*)$': '<rootDir>/functions/$1',
  '^@local/(.*)$': '<rootDir>/local/$1',
  '^@infra/(.*)$': '<rootDir>/infra/$1',
  '^@test/(.*)$': '<rootDir>/test/$1',
};
const common = {
  transform,
  moduleNameMapper,
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
  testEnvironment: 'node',
};
module.exports = {
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      // DynamoDB Local on a loaded 2-core machine: generous, so load never fails a test.
      setupFilesAfterEnv: [...common.setupFilesAfterEnv, '<rootDir>/test/support/timeout-60s.ts'],
      globalSetup: '<rootDir>/test/support/dynamodb-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/dynamodb-global-teardown.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      // Each step spawns the CLI (and some start DynamoDB Local or `serve`).
      setupFilesAfterEnv: [...common.setupFilesAfterEnv, '<rootDir>/test/support/timeout-180s.ts'],
      globalSetup: '<rootDir>/test/support/dynamodb-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/dynamodb-global-teardown.ts',
    },
    {
      ...common,
      displayName: 'contract',
      // The third-party samples in ../shared/fixtures (see test/support/shared-fixtures.ts).
      testMatch: ['<rootDir>/test/contract/**/*.test.ts'],
      setupFilesAfterEnv: [
        ...common.setupFilesAfterEnv,
        '<rootDir>/test/support/contract-setup.ts',
        '<rootDir>/test/support/timeout-60s.ts',
      ],
      globalSetup: '<rootDir>/test/support/dynamodb-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/dynamodb-global-teardown.ts',
    },
  ],
};
