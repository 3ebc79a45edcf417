/**
 * One jest run for everything. Kafka and OpenSearch start once per run in the global setup (or are
 * found already running), never per test file. SHAOBING_TEST_SERVICES=none skips them for quick
 * unit runs; tests that need them then fail with a message saying so.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 60_000,
  // Two cores: under CI one worker runs the files in turn while Kafka and OpenSearch use the other;
  // two workers starved the 10,000-document crash replay when it ran beside the hostile-input suite.
  maxWorkers: process.env.CI ? 1 : '50%',
};
