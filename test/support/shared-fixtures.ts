import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

/**
 * Third-party samples (real scanner output, Atlassian's Jira spec) beside this checkout, read in
 * place and never copied into the repository. Only the contract suite (`npm run test:contract`)
 * reads them; `npm test` runs on the project's own fixtures in test/fixtures.
 * CLOSELOOP_SHARED_FIXTURES points elsewhere.
 */
export const FIXTURES = resolve(
  process.env.CLOSELOOP_SHARED_FIXTURES ?? join(__dirname, '..', '..', '..', 'shared', 'fixtures'),
);

/** Fails loudly (never skips) when the samples are missing: called by the contract suite's setup. */
export function requireSharedFixtures(): void {
  if (!existsSync(join(FIXTURES, 'SOURCES.md'))) {
    throw new Error(
      `the contract suite needs the third-party samples in ${FIXTURES} (set CLOSELOOP_SHARED_FIXTURES); they are not part of this repository`,
    );
  }
}

export const fixturePath = (...parts: string[]) => join(FIXTURES, ...parts);

export function readFixtureJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(fixturePath(...parts), 'utf8')) as T;
}

export function readFixtureLines(...parts: string[]): unknown[] {
  return readFileSync(fixturePath(...parts), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

interface Cassette {
  interactions: Array<{
    request: { method: string; uri: string; body?: string | null };
    response: { status: { code: number }; headers: Record<string, string[]>; body: { string: string } };
  }>;
}

/** The recorded HTTP interactions of a VCR cassette (GitGuardian fixtures). */
export function readCassette(...parts: string[]) {
  const cassette = parseYaml(readFileSync(fixturePath(...parts), 'utf8')) as Cassette;
  return cassette.interactions.map((i) => ({
    method: i.request.method,
    uri: i.request.uri,
    /** The request's JSON body as recorded, when it had one. */
    requestBody: i.request.body ? (JSON.parse(i.request.body) as unknown) : undefined,
    status: i.response.status.code,
    headers: Object.fromEntries(Object.entries(i.response.headers).map(([k, v]) => [k.toLowerCase(), v[0] ?? ''])),
    body: JSON.parse(i.response.body.string) as unknown,
  }));
}

/** Every secret-looking value in the fixtures that must never appear in closeloop's output. */
export const FIXTURE_SECRETS = [
  'AKIAYVP4CIPPERUVIFXG',
  'AKIAIOSFODNN7EXAMPLE',
  'NxYPEF5lNGgk3yonndjSbwP77uNJxOvfKTjF5aVBqsHktNlf1wfJHHvJ8iifk32r',
  'DtlkqVb3wlaVdJK_BU-3mB4wwuuf8xx8YNInajiJ7GU=',
  'secretAWSsecret',
  'BEGIN RSA PRIVATE KEY',
  'BEGIN OPENSSH PRIVATE KEY',
  'aio_XXXXXXXXXXXXXXXXXXXXXXXXXXXX',
  'admin:admin@the-internet',
  'a secret',
];
