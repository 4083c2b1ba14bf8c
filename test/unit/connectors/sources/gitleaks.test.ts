import { normalizeGitleaks, gitleaksFormat } from '@connectors/sources/gitleaks';
import type { Observation } from '@core/finding/model';
import { FIXTURE_SECRETS, readFixtureJson } from '@test/support/fixtures';
import { aContext, aGitleaksRecord } from '@test/support/factories';

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
      expect(o.secretHash).toMatch(/^[0-9a-f]{64}$/);
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

  it('shows at most four characters of the secret', () => {
    const o = observe(aGitleaksRecord({ Secret: 'sk_live_0123456789abcdefghij' }));
    expect(o.secretPreview).toBe('sk_l…(28)');
  });

  it('rejects a record whose StartLine is not a number, naming the field and the value', () => {
    const result = normalizeGitleaks(aGitleaksRecord({ StartLine: 'ten' }), aContext());
    expect(result).toEqual({ kind: 'rejected', problems: ['"StartLine" must be a number, got "ten"'] });
  });

  it('names a missing field and never echoes the secret of a bad record', () => {
    const { File: _file, ...record } = aGitleaksRecord({ Secret: 'AKIAYVP4CIPPERUVIFXG' });
    const bad = normalizeGitleaks({ ...record, Secret: 42 }, aContext());
    expect(bad.kind).toBe('rejected');
    const problems = (bad as { problems: string[] }).problems;
    expect(problems).toContain('"File" is required');
    expect(problems).toContain('"Secret" must be a string, got a value (not shown)');
  });

  it('classifies an AWS access token as a cloud access key, high while unverified', () => {
    const [aws] = readFixtureJson<unknown[]>('scanners', 'gitleaks', 'defectdojo-gitleaks8_many.json');
    const o = observe(aws);
    expect(o.nhiType).toBe('cloud_access_key');
    expect(o.severity).toBe('high');
    expect(o.validity).toBe('unknown');
  });
});
