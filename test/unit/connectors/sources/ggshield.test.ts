import { ggshieldFormat } from '@connectors/sources/ggshield';
import { gitguardianFormat } from '@connectors/sources/gitguardian';
import { normalizeGitleaks } from '@connectors/sources/gitleaks';
import type { Normalized } from '@connectors/sources/types';
import type { Observation } from '@core/finding/model';
import { SCANNER_FIXTURE_SECRETS, readOwnFixtureJson } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

const fixture = (file: string) => readOwnFixtureJson('scanners', 'ggshield', file);
const normalizeAll = (doc: unknown): Normalized[] =>
  ggshieldFormat.records!(doc).map((r) => ggshieldFormat.normalize(r, aContext()));
const observations = (results: Normalized[]): Observation[] =>
  results.flatMap((r) => (r.kind === 'observation' ? [r.observation] : []));
const hash = (secret: string) => aContext().hasher.hash(secret);

describe('ggshield JSON output', () => {
  it('detects path scans and commit ranges, with and without incidents', () => {
    for (const file of ['path-scan-masked.json', 'commit-range.json', 'no-secret.json'])
      expect(ggshieldFormat.detect(fixture(file))).toBe(true);
  });

  it('gives masked matches a location identity: never a hash of the mask', () => {
    const found = observations(normalizeAll(fixture('path-scan-masked.json')));
    expect(found).toHaveLength(3);
    for (const o of found) {
      expect(o.secretHash).toBeUndefined();
      expect(o.fingerprint).toMatch(/^at:/);
    }
    expect(found[0]).toMatchObject({ detector: 'Stripe Keys', validity: 'active', locations: [{ line: 12 }] });
  });

  it('hashes the matches of --show-secrets output, which ignore_sha proves are the real ones', () => {
    const [stripe, postgres, aws] = observations(normalizeAll(fixture('path-scan-show-secrets.json')));
    expect(stripe!.secretHash).toBe(hash('sk_live_closeloopFAKE000000000000000000'));
    // Several matches (host, username, password): the password is the credential.
    expect(postgres!.secretHash).toBe(hash('Closeloop-Fake-DB-Passw0rd!'));
    // AWS Keys: client_id and client_secret; the secret key is the credential.
    expect(aws!.secretHash).toBe(hash('Fake/CloseloopSecretKey+NotReal/00000000'));
  });

  it('correlates --show-secrets output with gitleaks on the same Stripe key', () => {
    const [stripe] = observations(normalizeAll(fixture('path-scan-show-secrets.json')));
    const gitleaks = readOwnFixtureJson<unknown[]>('scanners', 'gitleaks', 'v8-git.json')[1];
    const g = normalizeGitleaks(gitleaks, aContext());
    expect(stripe!.fingerprint).toBe(g.kind === 'observation' && g.observation.fingerprint);
  });

  it('does not take plain-looking matches for the secret unless they hash to ignore_sha', () => {
    const [record] = ggshieldFormat.records!(fixture('path-scan-show-secrets.json')) as Array<{
      result: Record<string, unknown>;
    }>;
    const tampered = { ...record, result: { ...record!.result, ignore_sha: 'f'.repeat(64) } };
    const result = ggshieldFormat.normalize(tampered, aContext());
    expect(result.kind === 'observation' && result.observation.secretHash).toBeUndefined();
  });

  it("is one finding with the GitGuardian incident: the same secret_hash in --with-incident-details, the incident's alias otherwise", () => {
    const [aws] = observations(normalizeAll(fixture('commit-range.json')));
    const incident = gitguardianFormat.normalize(
      readOwnFixtureJson('scanners', 'gitguardian', 'incident.json'),
      aContext(),
    );
    expect(incident.kind).toBe('observation');
    const gg = (incident as { observation: Observation }).observation;
    expect(aws!.fingerprint).toBe(gg.fingerprint);
    expect(aws!.aliasKey).toBe('gitguardian:incident/3302');
    const [, , known] = observations(normalizeAll(fixture('path-scan-masked.json')));
    expect(known!.aliasKey).toBe(gg.aliasKey);
  });

  it('reads nested commit scans: the commit and file, a line unknown in a patch, an ignored secret skipped', () => {
    const results = normalizeAll(fixture('commit-range.json'));
    expect(results.map((r) => (r.kind === 'skipped' ? r.reason : r.kind))).toEqual([
      'observation',
      'ignored in ggshield (ignored_match)',
    ]);
    const [aws] = observations(results);
    expect(aws!.locations[0]).toEqual({
      kind: 'commit',
      path: 'deploy/terraform/keys.tf',
      commit: '3f2a9c1d7e5b4a608c9d2e1f0a7b6c5d4e3f2a1b',
    });
  });

  it('reads a scan without incidents as no records of ggshield', () => {
    expect(ggshieldFormat.records!(fixture('no-secret.json'))).toEqual([]);
    expect(ggshieldFormat.scanner!(fixture('no-secret.json'))).toBe('ggshield');
  });

  it('never carries matches, masked or not, into observations', () => {
    const serialised = JSON.stringify(
      ['path-scan-masked.json', 'path-scan-show-secrets.json', 'commit-range.json'].flatMap((f) =>
        normalizeAll(fixture(f)),
      ),
    );
    for (const secret of SCANNER_FIXTURE_SECRETS) expect(serialised).not.toContain(secret);
    expect(serialised).not.toContain('sk_liv');
    // ignore_sha is an unkeyed SHA-256 of the secret: a guess could be checked against it.
    const doc = fixture('path-scan-masked.json') as {
      entities_with_incidents: Array<{ incidents: Array<{ ignore_sha: string }> }>;
    };
    for (const e of doc.entities_with_incidents)
      for (const i of e.incidents) expect(serialised).not.toContain(i.ignore_sha);
  });

  it('rejects an incident without ignore_sha, naming the field', () => {
    const [record] = ggshieldFormat.records!(fixture('path-scan-masked.json')) as Array<{
      result: Record<string, unknown>;
    }>;
    const { ignore_sha: _sha, ...incident } = record!.result;
    expect(ggshieldFormat.normalize({ ...record, result: incident }, aContext())).toEqual({
      kind: 'rejected',
      problems: ['"ignore_sha" is required'],
    });
  });
});
