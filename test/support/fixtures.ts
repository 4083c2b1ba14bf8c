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

/** A report fixture written for closeloop's own suites (test/fixtures/reports, README there). */
export const reportFixture = (name: string) => ownFixturePath('reports', name);

/**
 * Every secret the fixtures in test/fixtures/{reports,github,gitguardian} carry (all made up:
 * FAKE or fixture in each), which must never appear in anything closeloop stores, logs or sends.
 */
export const REPORT_FIXTURE_SECRETS = [
  'clfx_FAKE7Hq2mZ9wXv4TnR8sLd3KpB6yJc1fixture01',
  'FAKEcloseloopFixtureEncryptionKey0002Qw8Zx4=',
  'AKIAFIXTURECLOSELP01',
  'AKIAFIXTURECLOSELP02',
  'AKIAFIXTURECLOSELP03',
  'FAKE-closeloop-fixture-pass-0003',
  'FAKEcloseloopFixtureNotARealKey',
  'FAKEcloseloopFixtureRsaKeyNotARealKey',
  'BEGIN OPENSSH PRIVATE KEY',
  'BEGIN RSA PRIVATE KEY',
  'clfx_FAKEtestsuiteApiKey4Lm8Nq2Rv6Tx0fixture04',
  'xoxb-0000000000-0000000000000-FAKEcloseloopFixture05',
  'npm_FAKEcloseloopFixture06abcdefghijklmnopqrst',
  'ghp_FAKEcloseloopFixture0000000000000000009',
  'https://hooks.slack.com/services/T00000000/B00000000/FAKEcloseloopFixture07',
];

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
