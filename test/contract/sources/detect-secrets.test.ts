import { detectSecretsFormat } from '@connectors/sources/detect-secrets';
import { readFixtureJson } from '@test/support/shared-fixtures';
import { aContext } from '@test/support/factories';

describe('detect-secrets baseline (contract: DefectDojo samples)', () => {
  const many = readFixtureJson<{ results: Record<string, Array<{ hashed_secret: string }>> }>(
    'scanners',
    'detect-secrets',
    'many_findings.json',
  );

  it('reads every result by location and skips the audited false positive', () => {
    expect(detectSecretsFormat.detect(many)).toBe(true);
    const results = detectSecretsFormat.records!(many).map((r) => detectSecretsFormat.normalize(r, aContext()));
    expect(results.filter((r) => r.kind === 'skipped')).toEqual([
      { kind: 'skipped', reason: 'audited as not a secret (is_secret: false)' },
    ]);
    const found = results.flatMap((r) => (r.kind === 'observation' ? [r.observation] : []));
    expect(found.length).toBeGreaterThan(0);
    for (const o of found) expect(o.fingerprint).toMatch(/^at:/);
    const serialised = JSON.stringify(results);
    for (const list of Object.values(many.results))
      for (const r of list) expect(serialised).not.toContain(r.hashed_secret);
  });

  it('reads the baseline without results as a clean scan of detect-secrets', () => {
    const none = readFixtureJson('scanners', 'detect-secrets', 'no_findings.json');
    expect(detectSecretsFormat.detect(none)).toBe(true);
    expect(detectSecretsFormat.records!(none)).toEqual([]);
    expect(detectSecretsFormat.scanner!(none)).toBe('detect-secrets');
  });
});
