// Three suites that each run alone: `npm run test:unit|test:integration|test:e2e`.
const swc = ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }];
const moduleNameMapper = {
  '^@core/(.*)$': '<rootDir>/core/$1',
  '^@connectors/(.*)$': '<rootDir>/connectors/$1',
  '^@functions/(.*)$': '<rootDir>/functions/$1',
  '^@local/(.*)$': '<rootDir>/local/$1',
  '^@infra/(.*)$': '<rootDir>/infra/$1',
  '^@test/(.*)$': '<rootDir>/test/$1',
};
const common = {
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper,
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
  testEnvironment: 'node',
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/dynamodb-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/dynamodb-global-teardown.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/dynamodb-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/dynamodb-global-teardown.ts',
    },
  ],
};
