import { trivyFormat } from '@connectors/sources/trivy';
import type { Normalized } from '@connectors/sources/types';
import type { Observation } from '@core/finding/model';
import { readOwnFixtureJson } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

const fixture = (file: string) => readOwnFixtureJson('scanners', 'trivy', file);
const normalizeAll = (doc: unknown): Normalized[] => {
  expect(trivyFormat.detect(doc)).toBe(true);
  return trivyFormat.records!(doc).map((r) => trivyFormat.normalize(r, aContext()));
};
const observations = (results: Normalized[]): Observation[] =>
  results.flatMap((r) => (r.kind === 'observation' ? [r.observation] : []));

describe('Trivy secrets and Trivy Operator ExposedSecretReport', () => {
  it('takes only the secrets of an image scan, masked, so each gets a location identity on the image', () => {
    const found = observations(normalizeAll(fixture('image.json')));
    expect(found.map((o) => o.detector)).toEqual(['stripe-secret-token', 'aws-access-key-id', 'aws-secret-access-key']);
    for (const o of found) {
      expect(o.secretHash).toBeUndefined();
      expect(o.asset).toEqual({ type: 'container_image', id: 'ghcr.io/acme/billing-worker' });
    }
    expect(found[0]).toMatchObject({
      severity: 'critical',
      nhiType: 'api_key',
      locations: [{ kind: 'file', path: '/app/config/settings.py', line: 12 }],
    });
  });

  it('gives the same secret in the next tag of the image the same finding', () => {
    const [first] = observations(normalizeAll(fixture('image.json')));
    const [next] = observations(normalizeAll(fixture('image-next-tag.json')));
    expect(next!.fingerprint).toBe(first!.fingerprint);
  });

  it('reads a filesystem scan: misconfigurations skipped, the secret kept, the asset from --asset', () => {
    const doc = fixture('fs.json');
    const results = trivyFormat.records!(doc).map((r) =>
      trivyFormat.normalize(r, aContext({ asset: 'github.com/acme/payments-api' })),
    );
    const [o] = observations(results);
    expect(results).toHaveLength(1);
    expect(o).toMatchObject({
      detector: 'github-pat',
      asset: { type: 'repository', id: 'github.com/acme/payments-api' },
      locations: [{ path: 'Dockerfile', line: 24 }],
    });
  });

  it('reads a trivy k8s report: the image when the resource names one, else the workload', () => {
    const [stripe, slack] = observations(normalizeAll(fixture('k8s.json')));
    expect(stripe!.asset).toEqual({ type: 'container_image', id: 'ghcr.io/acme/billing-worker' });
    expect(slack!.asset).toEqual({ type: 'kubernetes_workload', id: 'prod-eu/kube-system/ConfigMap/ci-settings' });
  });

  it("is one finding for the image's secret whether Trivy or the Operator reported it", () => {
    const [fromImage] = observations(normalizeAll(fixture('image.json')));
    const [fromOperator] = observations(normalizeAll(fixture('operator-exposedsecretreport.json')));
    expect(fromOperator!.asset).toEqual({ type: 'container_image', id: 'ghcr.io/acme/billing-worker' });
    expect(fromOperator!.locations[0]).toMatchObject({
      path: '/app/config/settings.py',
      resource: 'billing/ReplicaSet/billing-worker-7d9f8c6b5#worker',
    });
    // The Operator gives no line: a location identity of its own, stable across its reports.
    expect(fromOperator!.fingerprint).not.toBe(fromImage!.fingerprint);
  });

  it('reads an Operator List: each ExposedSecretReport, a VulnerabilityReport skipped', () => {
    const results = normalizeAll(fixture('operator-list.json'));
    expect(results.map((r) => (r.kind === 'skipped' ? r.reason : r.kind))).toEqual([
      'observation',
      'observation',
      'observation',
      'not a secret report (VulnerabilityReport)',
    ]);
    // The same Stripe key in two ReplicaSets of one image: one finding.
    expect(new Set(observations(results).map((o) => o.fingerprint)).size).toBe(2);
  });

  it('reads reports without secrets as no records: a clean scan of Trivy, never of an Operator VulnerabilityReport', () => {
    expect(trivyFormat.records!(fixture('repo-no-secrets.json'))).toEqual([]);
    expect(trivyFormat.records!(fixture('operator-exposedsecretreport-empty.json'))).toEqual([]);
    expect(trivyFormat.scanner!(fixture('operator-exposedsecretreport-empty.json'))).toBe('trivy');
    const vulnerabilities = (fixture('operator-list.json') as { items: unknown[] }).items[2];
    expect(trivyFormat.scanner!(vulnerabilities)).toBeUndefined();
  });

  it('never carries a match into observations', () => {
    const serialised = JSON.stringify(
      ['image.json', 'fs.json', 'k8s.json', 'operator-list.json'].flatMap((f) => normalizeAll(fixture(f))),
    );
    expect(serialised).not.toContain('*****');
    expect(serialised).not.toContain('GITHUB_PAT');
  });

  it('rejects a secret without a RuleID, naming the field', () => {
    const [record] = trivyFormat.records!(fixture('image.json')) as Array<{ result: Record<string, unknown> }>;
    const { RuleID: _r, ...secret } = record!.result;
    expect(trivyFormat.normalize({ ...record, result: secret }, aContext())).toEqual({
      kind: 'rejected',
      problems: ['"RuleID" is required'],
    });
  });
});
