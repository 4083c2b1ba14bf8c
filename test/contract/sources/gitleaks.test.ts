import { normalizeGitleaks, gitleaksFormat } from '@connectors/sources/gitleaks';
import type { Observation } from '@core/finding/model';
import { FIXTURE_SECRETS, readFixtureJson } from '@test/support/shared-fixtures';
import { aContext } from '@test/support/factories';

function observe(record: unknown): Observation {
  const result = normalizeGitleaks(record, aContext());
  if (result.kind !== 'observation') throw new Error(`expected an observation, got ${JSON.stringify(result)}`);
  return result.observation;
}

describe('gitleaks JSON connector (contract: shared/fixtures/scanners/gitleaks)', () => {
  it.each([
    'json_simple.json',
    'json_extra_simple.json',
    'secobserve-gitleaks.git.json',
    'secobserve-gitleaks.dir.json',
    'defectdojo-gitleaks8_many.json',
  ])('detects and normalises every record of %s without carrying the secret', (file) => {
    const doc = readFixtureJson('scanners', 'gitleaks', file);
    expect(gitleaksFormat.detect(doc)).toBe(true);
    const records = gitleaksFormat.records!(doc);
    const observations = records.map(observe);
    expect(observations).toHaveLength(records.length);
    const serialised = JSON.stringify(observations);
    for (const secret of FIXTURE_SECRETS) expect(serialised).not.toContain(secret);
    for (const o of observations) {
      expect(o.owaspNhi).toContain('NHI2');
      expect(o.nistCsf.length).toBeGreaterThan(0);
    }
  });

  it('takes the repository from the Link of a git-mode report', () => {
    const [first] = readFixtureJson<unknown[]>('scanners', 'gitleaks', 'secobserve-gitleaks.git.json');
    const o = observe(first);
    expect(o.asset).toEqual({ type: 'repository', id: 'github.com/secobserve/secobserve' });
    expect(o.locations[0]).toMatchObject({
      kind: 'commit',
      path: 'docker-compose-playwright.yml',
      line: 42,
      commit: 'b718aa975b79d141225d928ba2822ea010b74d2b',
    });
  });

  it('correlates the same secret across commits, files and a line-wrapped copy (dir vs git mode)', () => {
    const git = readFixtureJson<unknown[]>('scanners', 'gitleaks', 'secobserve-gitleaks.git.json').map(observe);
    const dir = readFixtureJson<unknown[]>('scanners', 'gitleaks', 'secobserve-gitleaks.dir.json').map(observe);
    // git records 0 and 2 are the same Django key in two commits; dir record 0 wraps it over "\r\n".
    expect(git[0]!.fingerprint).toBe(git[2]!.fingerprint);
    expect(dir[0]!.fingerprint).toBe(git[0]!.fingerprint);
    expect(dir[2]!.fingerprint).toBe(git[0]!.fingerprint);
    expect(git[1]!.fingerprint).not.toBe(git[0]!.fingerprint);
  });

  it('hashes real secrets, and gives an armour-only private key and a too-short test value a location identity', () => {
    const [aws, , key, generic] = readFixtureJson<unknown[]>(
      'scanners',
      'gitleaks',
      'defectdojo-gitleaks8_many.json',
    ).map(observe);
    expect(aws!.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(generic!.secretHash).toMatch(/^[0-9a-f]{64}$/);
    // "-----BEGIN RSA PRIVATE KEY-----" is every RSA key's first line.
    expect(key!.secretHash).toBeUndefined();
    expect(key!.fingerprint).toMatch(/^at:/);
    // gitleaks' own expected report: "a secret" is seven characters, no credential.
    const [simple] = readFixtureJson<unknown[]>('scanners', 'gitleaks', 'json_simple.json').map(observe);
    expect(simple!.secretHash).toBeUndefined();
  });

  it('classifies an AWS access token as a cloud access key, high while unverified', () => {
    const [aws] = readFixtureJson<unknown[]>('scanners', 'gitleaks', 'defectdojo-gitleaks8_many.json');
    const o = observe(aws);
    expect(o.nhiType).toBe('cloud_access_key');
    expect(o.severity).toBe('high');
    expect(o.validity).toBe('unknown');
  });
});
