import { detectSecretsFormat } from '@connectors/sources/detect-secrets';
import type { Normalized } from '@connectors/sources/types';
import type { Observation } from '@core/finding/model';
import { readOwnFixtureJson } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

const fixture = (file: string) => readOwnFixtureJson('scanners', 'detect-secrets', file);
const normalizeAll = (doc: unknown): Normalized[] =>
  detectSecretsFormat.records!(doc).map((r) => detectSecretsFormat.normalize(r, aContext()));
const observations = (results: Normalized[]): Observation[] =>
  results.flatMap((r) => (r.kind === 'observation' ? [r.observation] : []));

describe('detect-secrets baseline', () => {
  it('detects 1.x and 0.x baselines', () => {
    expect(detectSecretsFormat.detect(fixture('baseline-1.5.json'))).toBe(true);
    expect(detectSecretsFormat.detect(fixture('baseline-0.14.json'))).toBe(true);
  });

  it('gives every secret a location identity (it has only a SHA-1) and skips an audited false positive', () => {
    const results = normalizeAll(fixture('baseline-1.5.json'));
    expect(results.map((r) => r.kind)).toEqual(['observation', 'observation', 'skipped', 'observation']);
    expect(results[2]).toEqual({ kind: 'skipped', reason: 'audited as not a secret (is_secret: false)' });
    for (const o of observations(results)) {
      expect(o.secretHash).toBeUndefined();
      expect(o.fingerprint).toMatch(/^at:/);
    }
    const [aws, stripe] = observations(results);
    expect(aws).toMatchObject({
      nhiType: 'cloud_access_key',
      locations: [{ path: 'deploy/terraform/keys.tf', line: 4 }],
    });
    // is_verified: detect-secrets checked it against the provider.
    expect(stripe!.validity).toBe('active');
  });

  it('never stores the SHA-1 of the secret', () => {
    const doc = fixture('baseline-1.5.json') as { results: Record<string, Array<{ hashed_secret: string }>> };
    const serialised = JSON.stringify(normalizeAll(doc));
    for (const results of Object.values(doc.results))
      for (const r of results) expect(serialised).not.toContain(r.hashed_secret);
  });

  it('reads 0.x results without a filename from the key of results', () => {
    const [aws, key] = observations(normalizeAll(fixture('baseline-0.14.json')));
    expect(aws!.locations[0]).toMatchObject({ path: 'deploy/terraform/keys.tf', line: 4 });
    expect(key!.nhiType).toBe('private_key');
  });

  it('reads a baseline without results as no records of detect-secrets', () => {
    expect(detectSecretsFormat.records!(fixture('baseline-empty.json'))).toEqual([]);
    expect(detectSecretsFormat.scanner!(fixture('baseline-empty.json'))).toBe('detect-secrets');
  });

  it('rejects a result without a type, naming the field', () => {
    const doc = { version: '1.5.0', plugins_used: [], results: { 'a.env': [{ filename: 'a.env', line_number: 1 }] } };
    expect(normalizeAll(doc)).toEqual([{ kind: 'rejected', problems: ['"type" is required'] }]);
  });
});
