// Appends each jest run's counts to test-artifacts/jest-summary.jsonl so .ci/run can print one
// closing line for the unit, integration and e2e runs together.
const { appendFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.dir = join(globalConfig.rootDir, 'test-artifacts');
  }

  onRunComplete(_contexts, results) {
    mkdirSync(this.dir, { recursive: true });
    appendFileSync(
      join(this.dir, 'jest-summary.jsonl'),
      `${JSON.stringify({ passed: results.numPassedTests, failed: results.numFailedTests, skipped: results.numPendingTests + results.numTodoTests })}\n`,
    );
  }
}

module.exports = SummaryReporter;
