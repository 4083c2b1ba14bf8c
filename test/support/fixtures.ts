import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The project's own fixtures: realistic reports in the scanners' real formats, written for this
 * repository, with obviously fake secrets. `npm test` needs nothing outside the repository.
 */
export const OWN_FIXTURES = resolve(__dirname, '..', 'fixtures');

export const ownFixturePath = (...parts: string[]) => join(OWN_FIXTURES, ...parts);

export function readOwnFixtureJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(ownFixturePath(...parts), 'utf8')) as T;
}

// Transitional: suites not yet moved to their own fixtures still read the shared samples.
// Once every unit/integration/e2e test reads test/fixtures, only test/contract imports shared-fixtures.
export * from './shared-fixtures';
