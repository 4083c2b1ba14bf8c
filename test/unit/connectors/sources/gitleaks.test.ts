import { normalizeGitleaks, gitleaksFormat } from '@connectors/sources/gitleaks';
import type { Observation } from '@core/finding/model';
import { SCANNER_FIXTURE_SECRETS, readOwnFixtureJson } from '@test/support/fixtures';
import { aContext, aGitleaksRecord } from '@test/support/factories';

function observe(record: unknown): Observation {
  const result = normalizeGitleaks(record, aContext());
  if (result.kind !== 'observation') throw new Error(`expected an observation, got ${JSON.stringify(result)}`);
  return result.observation;
}
const report = (file: string) => {
  const doc = readOwnFixtureJson('scanners', 'gitleaks', file);
  return gitleaksFormat.records!(doc).map(observe);
};

describe('gitleaks JSON connector', () => {
  it.each(['v8-git.json', 'v8-dir.json', 'v8-redact.json', 'v8-redact-60.json', 'v7.json'])(
    'detects and normalises every record of %s without carrying the secret',
    (file) => {
      const doc = readOwnFixtureJson('scanners', 'gitleaks', file);
      expect(gitleaksFormat.detect(doc)).toBe(true);
      const observations = report(file);
      expect(observations.length).toBeGreaterThan(1);
      const serialised = JSON.stringify(observations);
      for (const secret of SCANNER_FIXTURE_SECRETS) expect(serialised).not.toContain(secret);
      for (const o of observations) expect(o.owaspNhi).toContain('NHI2');
    },
  );

  it('takes the repository from the Link of a git-mode report', () => {
    const [aws] = report('v8-git.json');
    expect(aws!.asset).toEqual({ type: 'repository', id: 'github.com/acme/payments-api' });
    expect(aws!.locations[0]).toMatchObject({ kind: 'commit', path: 'deploy/terraform/keys.tf', line: 4 });
    expect(aws!.secretHash).toBe(aContext().hasher.hash('AKIAQCLOSELOOPFAKE01'));
  });

  it('gives each exposure of a --redact report its own finding by location, not one finding for "REDACTED"', () => {
    const redacted = report('v8-redact.json');
    expect(redacted).toHaveLength(4);
    for (const o of redacted) {
      expect(o.secretHash).toBeUndefined();
      expect(o.secretPreview).toBeUndefined();
      expect(o.fingerprint).toMatch(/^at:/);
    }
    // Three exposures; the generic key's line is reported in two commits: one exposure.
    expect(new Set(redacted.map((o) => o.fingerprint)).size).toBe(3);
    expect(redacted[2]!.fingerprint).toBe(redacted[3]!.fingerprint);
  });

  it('treats a --redact=N prefix as masked: the same location identity as the fully redacted report', () => {
    const partial = report('v8-redact-60.json');
    const full = report('v8-redact.json');
    expect(partial.map((o) => o.secretHash)).toEqual([undefined, undefined, undefined]);
    expect(partial.map((o) => o.fingerprint)).toEqual(full.slice(0, 3).map((o) => o.fingerprint));
  });

  it('never correlates a redacted finding with the unredacted one by secret', () => {
    const plain = report('v8-git.json');
    const redacted = report('v8-redact.json');
    for (const o of redacted) expect(plain.map((p) => p.fingerprint)).not.toContain(o.fingerprint);
  });

  it('reads gitleaks 7 JSON: the AWS offender is the secret, an armour-only private key is a location', () => {
    const [aws, key, other] = report('v7.json');
    expect(aws!.secretHash).toBe(aContext().hasher.hash('AKIAQCLOSELOOPFAKE01'));
    expect(aws!.asset).toEqual({ type: 'repository', id: 'github.com/acme/payments-api' });
    expect(key!.secretHash).toBeUndefined();
    expect(key!.nhiType).toBe('private_key');
    // Two different keys with the same armour line stay two findings.
    expect(key!.fingerprint).not.toBe(other!.fingerprint);
  });

  it('correlates gitleaks 7 and gitleaks 8 on the same AWS key', () => {
    expect(report('v7.json')[0]!.fingerprint).toBe(report('v8-git.json')[0]!.fingerprint);
  });

  it('reads an empty report, [] of gitleaks 8 and null of gitleaks 7, as no records', () => {
    expect(gitleaksFormat.records!(readOwnFixtureJson('scanners', 'gitleaks', 'v8-empty.json'))).toEqual([]);
    expect(gitleaksFormat.records!(readOwnFixtureJson('scanners', 'gitleaks', 'v7-empty.json'))).toEqual([]);
    expect(gitleaksFormat.scanner!(null)).toBe('gitleaks');
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
    const { File: _file, ...record } = aGitleaksRecord({ Secret: 'AKIAQCLOSELOOPFAKE01' });
    const bad = normalizeGitleaks({ ...record, Secret: 42 }, aContext());
    expect(bad.kind).toBe('rejected');
    const problems = (bad as { problems: string[] }).problems;
    expect(problems).toContain('"File" is required');
    expect(problems).toContain('"Secret" must be a string, got a value (not shown)');
  });

  it('classifies an AWS access token as a cloud access key, high while unverified', () => {
    const [aws] = report('v8-git.json');
    expect(aws!.nhiType).toBe('cloud_access_key');
    expect(aws!.severity).toBe('high');
    expect(aws!.validity).toBe('unknown');
  });
});
