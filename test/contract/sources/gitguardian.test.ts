import { gitguardianFormat } from '@connectors/sources/gitguardian';
import { readCassette } from '@test/support/shared-fixtures';
import { aContext } from '@test/support/factories';

describe('GitGuardian incidents connector (contract: recorded API responses)', () => {
  const list = readCassette('scanners', 'gitguardian', 'ggmcp-test_list_incidents_basic.yaml')[0]!;
  const single = readCassette('scanners', 'gitguardian', 'ggmcp-test_get_incident.yaml')[1]!;

  it('detects a list response and a single incident', () => {
    expect(gitguardianFormat.detect(list.body)).toBe(true);
    expect(gitguardianFormat.detect(single.body)).toBe(true);
  });

  it('normalises every incident of the recorded list', () => {
    const records = gitguardianFormat.records!(list.body);
    expect(records).toHaveLength(5);
    const results = records.map((r) => gitguardianFormat.normalize(r, aContext()));
    expect(results.every((r) => r.kind === 'observation')).toBe(true);
  });

  it('maps a revoked, publicly leaked AWS IAM incident', () => {
    const result = gitguardianFormat.normalize(single.body, aContext());
    expect(result).toMatchObject({
      kind: 'observation',
      observation: {
        nhiType: 'cloud_access_key',
        validity: 'inactive',
        publiclyExposed: true,
        asset: { type: 'workspace', id: 'gitguardian/workspace/8' },
        source: { scanner: 'gitguardian', scannerId: 'incident/21460', state: 'resolved' },
        aliasKey: 'gitguardian:incident/21460',
      },
    });
  });

  it('gives two incidents of one GitGuardian secret_hash one fingerprint', () => {
    const incident = single.body as Record<string, unknown>;
    const a = gitguardianFormat.normalize(incident, aContext());
    const b = gitguardianFormat.normalize({ ...incident, id: 99999 }, aContext());
    expect(
      a.kind === 'observation' && b.kind === 'observation' && a.observation.fingerprint === b.observation.fingerprint,
    ).toBe(true);
  });
});
