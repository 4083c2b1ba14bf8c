import { normalizeGitleaks } from '@connectors/sources/gitleaks';
import { sarifFormat } from '@connectors/sources/sarif';
import type { Observation } from '@core/finding/model';
import { FIXTURE_SECRETS, readFixtureJson } from '@test/support/shared-fixtures';
import { aContext } from '@test/support/factories';

function observeAll(doc: unknown): Observation[] {
  return sarifFormat.records!(doc).map((r) => {
    const result = sarifFormat.normalize(r, aContext());
    if (result.kind !== 'observation') throw new Error(JSON.stringify(result));
    return result.observation;
  });
}

describe('SARIF connector (contract: gitleaks 8 SARIF, gitleaks 7 SARIF, secretlint)', () => {
  it('reads the gitleaks 8 SARIF like the JSON report: its "a secret" is too short, so both give one location identity', () => {
    const doc = readFixtureJson('scanners', 'gitleaks', 'sarif_simple.sarif');
    expect(sarifFormat.detect(doc)).toBe(true);
    const [o] = observeAll(doc);
    expect(o!.source.scanner).toBe('gitleaks');
    expect(o!.secretHash).toBeUndefined();
    const [json] = readFixtureJson<unknown[]>('scanners', 'gitleaks', 'json_simple.json');
    const fromJson = normalizeGitleaks(json, aContext());
    expect(o!.fingerprint).toBe(fromJson.kind === 'observation' && fromJson.observation.fingerprint);
    expect(o!.locations[0]).toMatchObject({ path: 'auth.py', line: 1, commit: '0000000000000000' });
  });

  it('takes the gitleaks 7 secret from properties.offender and the rule from the message', () => {
    const observations = observeAll(readFixtureJson('scanners', 'sarif', 'defectdojo-gitleaks_7.5.0.sarif'));
    expect(observations.length).toBeGreaterThan(1);
    const aws = observations.find((o) => o.source.ruleId === 'AWS Access Key')!;
    expect(aws.fingerprint).toBe(`secret:${aContext().hasher.hash('AKIAIOSFODNN7EXAMPLE')}`);
    expect(aws.nhiType).toBe('cloud_access_key');
    // Its private-key offenders are only the armour line: a location identity each, never one "secret".
    const keys = observations.filter((o) => o.source.ruleId === 'Asymmetric Private Key');
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.secretHash).toBeUndefined();
  });

  it('falls back to a location fingerprint when the scanner masks the secret (secretlint)', () => {
    const observations = observeAll(readFixtureJson('scanners', 'sarif', 'secretlint-output.sarif'));
    expect(observations).toHaveLength(3);
    for (const o of observations) {
      expect(o.secretHash).toBeUndefined();
      expect(o.fingerprint).toMatch(/^at:/);
      expect(o.source.scanner).toBe('secretlint');
    }
  });

  it('carries no snippet, offender or message text into observations', () => {
    const all = [
      ...observeAll(readFixtureJson('scanners', 'gitleaks', 'sarif_simple.sarif')),
      ...observeAll(readFixtureJson('scanners', 'sarif', 'defectdojo-gitleaks_7.5.0.sarif')),
    ];
    const serialised = JSON.stringify(all);
    for (const secret of FIXTURE_SECRETS) expect(serialised).not.toContain(secret);
    expect(serialised).not.toContain('raw_source_code_extract');
  });
});
