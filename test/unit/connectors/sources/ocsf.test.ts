import { asffFormat } from '@connectors/sources/asff';
import { ocsfFormat } from '@connectors/sources/ocsf';
import type { Normalized } from '@connectors/sources/types';
import type { Observation } from '@core/finding/model';
import { readOwnFixtureJson } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

const fixture = (dir: string, file: string) => readOwnFixtureJson<unknown>('scanners', dir, file);
const normalizeAll = (doc: unknown): Normalized[] => {
  expect(ocsfFormat.detect(doc)).toBe(true);
  return ocsfFormat.records!(doc).map((r) => ocsfFormat.normalize(r, aContext()));
};
const observations = (results: Normalized[]): Observation[] =>
  results.flatMap((r) => (r.kind === 'observation' ? [r.observation] : []));
const byDetector = (results: Normalized[]) => Object.fromEntries(observations(results).map((o) => [o.detector, o]));

describe('OCSF connector: Prowler JSON-OCSF and the new Security Hub', () => {
  it('turns Prowler 4 identity checks into NHI findings and skips the rest and the passed checks', () => {
    const results = normalizeAll(fixture('prowler', 'v4-ocsf.json'));
    expect(results.map((r) => r.kind)).toEqual([
      'observation',
      'observation',
      'observation',
      'skipped',
      'skipped',
      'observation',
    ]);
    expect(results[3]).toEqual({ kind: 'skipped', reason: 'check passed' });
    expect(results[4]).toEqual({ kind: 'skipped', reason: 'not a non-human-identity finding' });
    const found = byDetector(results);
    expect(found.iam_rotate_access_key_90_days).toMatchObject({ owaspNhi: ['NHI7'], nhiType: 'cloud_access_key' });
    expect(found.iam_user_accesskey_unused).toMatchObject({ owaspNhi: ['NHI1'] });
    expect(found.iam_role_cross_account_readonlyaccess_policy).toMatchObject({
      owaspNhi: ['NHI5'],
      nhiType: 'service_account',
      asset: { type: 'aws_resource', id: 'arn:aws:iam::123456789012:role/AuditRole', account: '123456789012' },
      source: { scanner: 'prowler' },
    });
    // A secret Prowler found in a Lambda function's variables is a leaked secret (NHI2).
    expect(found.awslambda_function_no_secrets_in_variables).toMatchObject({ owaspNhi: ['NHI2'] });
  });

  it('reads Prowler 5 across providers: AWS, Azure, GCP and Kubernetes identities; MANUAL skipped; a muted check resolved at source', () => {
    const results = normalizeAll(fixture('prowler', 'v5-ocsf.json'));
    expect(results.filter((r) => r.kind === 'skipped').map((r) => r.kind === 'skipped' && r.reason)).toEqual([
      'manual check',
      'not a non-human-identity finding',
      'not a non-human-identity finding',
    ]);
    const found = byDetector(results);
    expect(found.iam_role_permissive_trust_relationship!.owaspNhi).toEqual(['NHI5']);
    expect(found.iam_no_root_access_key).toMatchObject({ owaspNhi: ['NHI5', 'NHI10'], source: { state: 'resolved' } });
    expect(found.storage_key_rotation_90_days).toMatchObject({
      owaspNhi: ['NHI7'],
      asset: { type: 'cloud_resource', account: '00000000-1111-2222-3333-444444444444' },
    });
    expect(found.entra_app_registration_client_secret_unused!.owaspNhi).toEqual(['NHI1']);
    expect(found.iam_sa_user_managed_key_unused).toMatchObject({ owaspNhi: ['NHI1'], nhiType: 'service_account' });
    expect(found.rbac_minimize_service_account_token_creation).toMatchObject({
      owaspNhi: ['NHI5'],
      asset: { type: 'cloud_resource', account: 'prod-cluster' },
    });
  });

  it('reads Prowler 3 (Security Finding, `finding` and Success/Failure)', () => {
    const results = normalizeAll(fixture('prowler', 'v3-ocsf.json'));
    expect(results.map((r) => (r.kind === 'skipped' ? r.reason : r.kind))).toEqual([
      'observation',
      'not a non-human-identity finding',
      'check passed',
    ]);
  });

  it('gives one issue on one resource one identity across Prowler 3, 4 and 5 and Security Hub, in OCSF and ASFF', () => {
    const fingerprint = (doc: unknown, format = ocsfFormat) =>
      observations(format.records!(doc).map((r) => format.normalize(r, aContext()))).find((o) =>
        /IAM\.3|iam_rotate_access_key_90_days/.test(o.detector),
      )!.fingerprint;
    const all = new Set([
      fingerprint(fixture('prowler', 'v3-ocsf.json')),
      fingerprint(fixture('prowler', 'v4-ocsf.json')),
      fingerprint(fixture('prowler', 'v5-ocsf.json')),
      fingerprint(fixture('securityhub', 'findings-imported-v2-iam3.json')),
      fingerprint(fixture('securityhub', 'get-findings-v2.json')),
      fingerprint(fixture('securityhub', 'asff-lowercase-findings.json'), asffFormat),
    ]);
    expect(all.size).toBe(1);
  });

  it('reads the "Findings Imported V2" event and skips a control that is not about identities', () => {
    const [iam3] = observations(normalizeAll(fixture('securityhub', 'findings-imported-v2-iam3.json')));
    expect(iam3).toMatchObject({
      detector: 'IAM.3',
      owaspNhi: ['NHI7'],
      severity: 'medium',
      source: { scanner: 'security-hub', state: 'open' },
      asset: { type: 'aws_resource', id: 'arn:aws:iam::123456789012:user/ci-deployer' },
    });
    expect(normalizeAll(fixture('securityhub', 'findings-imported-v2-s3.json'))).toEqual([
      { kind: 'skipped', reason: 'not a non-human-identity finding' },
    ]);
  });

  it('reads GetFindingsV2 results: a resolved control, a passed one skipped, a GuardDuty credential detection on the user', () => {
    const results = normalizeAll(fixture('securityhub', 'get-findings-v2.json'));
    const found = byDetector(results);
    expect(found['IAM.8']).toMatchObject({ owaspNhi: ['NHI1'], source: { state: 'resolved' } });
    expect(results.filter((r) => r.kind === 'skipped').map((r) => r.kind === 'skipped' && r.reason)).toEqual([
      'not a non-human-identity finding',
      'check passed',
    ]);
    const guardduty = found['TTPs/Discovery/IAMUser-AnomalousBehavior']!;
    expect(guardduty).toMatchObject({
      validity: 'active',
      source: { scanner: 'guardduty' },
      asset: { id: 'arn:aws:iam::123456789012:user/ci-deployer' },
    });
  });

  it('refuses a document that is not OCSF rather than reading it as no findings', () => {
    expect(() => ocsfFormat.records!({ items: [] })).toThrow(
      'expected a list of OCSF findings, {"Findings": [...]} or a "Findings Imported V2" event',
    );
  });

  it('reads an empty Prowler report as no records', () => {
    expect(ocsfFormat.records!(fixture('prowler', 'empty.json'))).toEqual([]);
  });

  it('rejects a finding without resources, naming the field', () => {
    const [finding] = fixture('prowler', 'v4-ocsf.json') as Array<Record<string, unknown>>;
    expect(ocsfFormat.normalize({ ...finding, resources: [] }, aContext())).toEqual({
      kind: 'rejected',
      problems: ['"resources" must have at least 1 item(s)'],
    });
  });
});
