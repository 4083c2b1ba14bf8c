import { trivyFormat } from '@connectors/sources/trivy';
import type { Normalized } from '@connectors/sources/types';
import { readFixtureJson } from '@test/support/shared-fixtures';
import { aContext } from '@test/support/factories';

const normalizeAll = (file: string): Normalized[] => {
  const doc = readFixtureJson('scanners', 'trivy', file);
  expect(trivyFormat.detect(doc)).toBe(true);
  return trivyFormat.records!(doc).map((r) => trivyFormat.normalize(r, aContext()));
};

describe('Trivy and Trivy Operator (contract: DefectDojo samples)', () => {
  it('keeps only the two masked GitHub tokens of a report with misconfigurations and vulnerabilities', () => {
    const results = normalizeAll('trivy-misconfigurations_and_secrets.json');
    expect(results.map((r) => r.kind)).toEqual(['observation', 'observation']);
    expect(results[0]).toMatchObject({
      observation: { detector: 'github-pat', severity: 'critical', locations: [{ path: 'Dockerfile', line: 24 }] },
    });
    expect(JSON.stringify(results)).not.toContain('GITHUB_PAT');
  });

  it("reads an ExposedSecretReport on the workload's image, masked", () => {
    const results = normalizeAll('trivy-operator-exposedsecretreport_many.json');
    expect(results).toHaveLength(2);
    for (const r of results)
      expect(r).toMatchObject({
        observation: {
          asset: { type: 'container_image', id: 'index.docker.io/library/secret' },
          locations: [{ resource: 'default/ReplicaSet/nginx-deployment-c868466d4#nginx' }],
        },
      });
    expect(results.map((r) => r.kind === 'observation' && r.observation.secretHash)).toEqual([undefined, undefined]);
  });
});
