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

/** The records of a JSON-lines fixture. */
export function readOwnFixtureLines<T = unknown>(...parts: string[]): T[] {
  return readFileSync(ownFixturePath(...parts), 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/**
 * Every fake credential in test/fixtures/scanners, as the scanners print them: none may appear in
 * closeloop's output (observations, errors, quarantine). See test/fixtures/scanners/README.md.
 */
export const SCANNER_FIXTURE_SECRETS = [
  'AKIAQCLOSELOOPFAKE01',
  'Fake/CloseloopSecretKey+NotReal/00000000',
  'c105e100bfa4e000000000000000000000f4ce01',
  'closeloop-fake-pass',
  'Q0xPU0VMT09QLUZBS0UtT1BFTlNTSC1LRVktTk9ULUEtUkVBTC1LRVktMDAwMDAw',
  'ghp_CloseloopFake00000000000000000000000',
  'closeloopFakeWebhook000000',
  'sk_live_closeloopFAKE000000000000000000',
  'Closeloop-Fake-DB-Passw0rd!',
  'closeloopFakeApiKey0000000000000000',
];

// Transitional: suites not yet moved to their own fixtures still read the shared samples.
// Once every unit/integration/e2e test reads test/fixtures, only test/contract imports shared-fixtures.
export * from './shared-fixtures';
