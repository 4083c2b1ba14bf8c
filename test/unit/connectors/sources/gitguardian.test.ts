import { gitguardianFormat } from '@connectors/sources/gitguardian';
import { readOwnFixtureJson } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

describe('GitGuardian incidents connector', () => {
  const list = readOwnFixtureJson('scanners', 'gitguardian', 'incidents.json');
  const single = readOwnFixtureJson<Record<string, unknown>>('scanners', 'gitguardian', 'incident.json');

  it('detects a list response and a single incident', () => {
    expect(gitguardianFormat.detect(list)).toBe(true);
    expect(gitguardianFormat.detect(single)).toBe(true);
  });

  it('normalises every incident of the list, with its occurrences as locations', () => {
    const results = gitguardianFormat.records!(list).map((r) => gitguardianFormat.normalize(r, aContext()));
    expect(results.map((r) => r.kind)).toEqual(['observation', 'observation']);
    expect(results[0]).toMatchObject({
      observation: {
        validity: 'active',
        locations: [{ kind: 'commit', repository: 'acme/payments-api', path: 'services/billing/settings.py' }],
      },
    });
  });

  it('maps a revoked, publicly leaked AWS incident', () => {
    expect(gitguardianFormat.normalize(single, aContext())).toMatchObject({
      kind: 'observation',
      observation: {
        nhiType: 'cloud_access_key',
        validity: 'inactive',
        publiclyExposed: true,
        asset: { type: 'workspace', id: 'gitguardian/workspace/42' },
        source: { scanner: 'gitguardian', scannerId: 'incident/3302', state: 'resolved' },
        aliasKey: 'gitguardian:incident/3302',
      },
    });
  });

  it('gives two incidents of one GitGuardian secret_hash one fingerprint', () => {
    const a = gitguardianFormat.normalize(single, aContext());
    const b = gitguardianFormat.normalize({ ...single, id: 99999 }, aContext());
    expect(a.kind === 'observation' && b.kind === 'observation' && a.observation.fingerprint).toBe(
      b.kind === 'observation' && b.observation.fingerprint,
    );
  });
});
