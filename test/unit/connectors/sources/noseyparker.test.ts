import { noseyParkerFormat } from '@connectors/sources/noseyparker';
import { normalizeTrufflehog } from '@connectors/sources/trufflehog';
import type { Normalized } from '@connectors/sources/types';
import type { Observation } from '@core/finding/model';
import { SCANNER_FIXTURE_SECRETS, readOwnFixtureJson, readOwnFixtureLines } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

const lines = (file: string) => readOwnFixtureLines('scanners', 'noseyparker', file);
const normalizeAll = (records: unknown[]): Normalized[] =>
  records.map((r) => noseyParkerFormat.normalize(r, aContext()));
const observations = (results: Normalized[]): Observation[] =>
  results.flatMap((r) => (r.kind === 'observation' ? [r.observation] : []));
const hash = (secret: string) => aContext().hasher.hash(secret);

describe('Nosey Parker JSON lines', () => {
  it('detects the 0.16 and the 0.22 shapes from a line', () => {
    expect(noseyParkerFormat.detect(lines('v0.16.jsonl')[0])).toBe(true);
    expect(noseyParkerFormat.detect(lines('v0.22.jsonl')[0])).toBe(true);
  });

  it('hashes the match_content of 0.16; a placeholder password gets a location identity', () => {
    const [aws, stripe, placeholder] = observations(normalizeAll(lines('v0.16.jsonl')));
    expect(aws!.secretHash).toBe(hash('AKIAQCLOSELOOPFAKE01'));
    expect(aws).toMatchObject({
      nhiType: 'cloud_access_key',
      locations: [{ kind: 'commit', path: 'deploy/terraform/keys.tf', line: 4 }],
    });
    expect(stripe!.secretHash).toBe(hash('sk_live_closeloopFAKE000000000000000000'));
    expect(placeholder!.secretHash).toBeUndefined();
  });

  it('decodes the base64 groups of 0.22 to the same secret: both versions are one finding', () => {
    const [aws16] = observations(normalizeAll(lines('v0.16.jsonl')));
    const [aws22] = observations(normalizeAll(lines('v0.22.jsonl')));
    expect(aws22!.fingerprint).toBe(aws16!.fingerprint);
    // One finding, every match a location.
    expect(aws22!.locations.map((l) => l.path)).toEqual(['deploy/terraform/keys.tf', 'deploy/terraform/old/keys.tf']);
  });

  it('correlates with TruffleHog on the same key', () => {
    const [aws] = observations(normalizeAll(lines('v0.22.jsonl')));
    const [th] = readOwnFixtureLines('scanners', 'trufflehog', 'v3-current.jsonl');
    const t = normalizeTrufflehog(th, aContext());
    expect(aws!.fingerprint).toBe(t.kind === 'observation' && t.observation.fingerprint);
  });

  it('skips a finding rejected in review', () => {
    const results = normalizeAll(lines('v0.22.jsonl'));
    expect(results[2]).toEqual({ kind: 'skipped', reason: 'rejected in Nosey Parker review (status reject)' });
  });

  it('reads `report --format json` (a list) and an empty object as a document', () => {
    const doc = readOwnFixtureJson('scanners', 'noseyparker', 'v0.22-report.json');
    expect(noseyParkerFormat.detect(doc)).toBe(true);
    expect(noseyParkerFormat.records!(doc)).toHaveLength(3);
    expect(noseyParkerFormat.records!({})).toEqual([]);
  });

  it('never carries match_content, groups or snippets into observations', () => {
    const serialised = JSON.stringify([...normalizeAll(lines('v0.16.jsonl')), ...normalizeAll(lines('v0.22.jsonl'))]);
    for (const secret of SCANNER_FIXTURE_SECRETS) {
      expect(serialised).not.toContain(secret);
      expect(serialised).not.toContain(Buffer.from(secret).toString('base64'));
    }
  });

  it('rejects a finding without matches, naming the field', () => {
    const { matches: _m, ...rest } = lines('v0.22.jsonl')[0] as Record<string, unknown>;
    expect(noseyParkerFormat.normalize(rest, aContext())).toEqual({
      kind: 'rejected',
      problems: ['"matches" is required'],
    });
  });
});
