import { normalizeTrufflehog, trufflehogFormat } from '@connectors/sources/trufflehog';
import type { Observation } from '@core/finding/model';
import { FIXTURE_SECRETS, readFixtureLines } from '@test/support/shared-fixtures';
import { aContext } from '@test/support/factories';

const observe = (r: unknown): Observation => {
  const result = normalizeTrufflehog(r, aContext());
  if (result.kind !== 'observation') throw new Error(JSON.stringify(result));
  return result.observation;
};

describe('TruffleHog v3 JSON lines (contract: DefectDojo samples, the 2022 base64 layout)', () => {
  const git = readFixtureLines('scanners', 'trufflehog', 'defectdojo-v3_git.jsonl');
  const github = readFixtureLines('scanners', 'trufflehog', 'defectdojo-v3_github.jsonl');

  it('detects the format from the first line', () => {
    expect(trufflehogFormat.detect(git[0])).toBe(true);
    expect(trufflehogFormat.detect(github[0])).toBe(true);
  });

  it('decodes the base64 Raw of this layout: the AWS key id is hashed, not its base64', () => {
    expect(observe(git[0]).secretHash).toBe(aContext().hasher.hash('AKIAYVP4CIPPERUVIFXG'));
  });

  it('gives the four results three findings: the same URI reported twice is one', () => {
    expect(new Set(git.map((r) => observe(r).fingerprint)).size).toBe(3);
  });

  it('makes a verified, active AWS key critical and records the repository', () => {
    const o = observe(git[0]);
    expect(o).toMatchObject({
      nhiType: 'cloud_access_key',
      validity: 'active',
      severity: 'critical',
      asset: { type: 'repository', id: 'github.com/trufflesecurity/test_keys' },
    });
    expect(o.locations[0]).toMatchObject({ path: 'keys', line: 4, commit: 'fbc14303ffbf8fb1c2c1914e8dda7d0121633aca' });
  });

  it('gives the git source and the github source of the same secrets the same fingerprints', () => {
    expect(git.map((r) => observe(r).fingerprint)).toEqual(github.map((r) => observe(r).fingerprint));
  });

  it('never carries Raw, RawV2 or Redacted values into observations', () => {
    const serialised = JSON.stringify([...git, ...github].map(observe));
    for (const secret of FIXTURE_SECRETS) expect(serialised).not.toContain(secret);
    expect(serialised).not.toContain('QUtJQVlWUDRDSVBQRVJVVklGWEc=');
    expect(serialised).not.toContain('LS0tLS1CRUdJTi');
  });

  it('rejects a line without DetectorName', () => {
    const { DetectorName: _d, ...rest } = git[0] as Record<string, unknown>;
    expect(normalizeTrufflehog(rest, aContext())).toEqual({
      kind: 'rejected',
      problems: ['"DetectorName" is required'],
    });
  });
});
