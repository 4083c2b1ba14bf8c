import { asffFormat } from '@connectors/sources/asff';
import type { Normalized } from '@connectors/sources/types';
import { readFixtureJson } from '@test/support/shared-fixtures';
import { aContext } from '@test/support/factories';

const all = (file: string): Normalized[] => {
  const doc = readFixtureJson('scanners', 'aws-securityhub', file);
  expect(asffFormat.detect(doc)).toBe(true);
  return asffFormat.records!(doc).map((r) => asffFormat.normalize(r, aContext()));
};
const observations = (results: Normalized[]) =>
  results.flatMap((r) => (r.kind === 'observation' ? [r.observation] : []));

describe('AWS Security Hub ASFF connector (contract: AWS docs, ASR and DefectDojo samples)', () => {
  it('turns AFSBP IAM.3 into a stale-credential finding (NHI7) on the IAM user', () => {
    const [o] = observations(all('asr-afsbp-iam.3.asff.json'));
    expect(o).toMatchObject({
      nhiType: 'cloud_access_key',
      owaspNhi: ['NHI7'],
      severity: 'medium',
      asset: { type: 'aws_resource', id: 'arn:aws:iam::111111111111:user/test-admin2', account: '111111111111' },
    });
  });

  it('turns AFSBP IAM.8 into an unused-credential finding (NHI1)', () => {
    expect(observations(all('asr-afsbp-iam.8.asff.json'))[0]!.owaspNhi).toEqual(['NHI1']);
  });

  it('reads the EventBridge "Security Hub Findings - Imported" event (CIS 1.4 key rotation)', () => {
    const [o] = observations(all('asr-eventbridge-securityhub-findings-imported-cis-1.4.json'));
    expect(o!.owaspNhi).toEqual(['NHI7']);
  });

  it('turns an Access Analyzer external-access finding into an excessive-access finding (NHI5)', () => {
    const [o] = observations(all('access-analyzer-external-access.asff.json'));
    expect(o).toMatchObject({ owaspNhi: ['NHI5'], source: { scanner: 'access-analyzer' } });
  });

  it('keeps the GuardDuty credential finding and skips the three EC2 findings', () => {
    const results = all('defectdojo-securityhub-guardduty.json');
    expect(results.filter((r) => r.kind === 'skipped')).toHaveLength(3);
    const [o] = observations(results);
    expect(o!.detector).toContain('guardduty');
    expect(o!.locations[0]!.resource).toBeDefined();
  });

  it('keeps only failed identity checks of 731 Prowler findings; the rest are skipped, none rejected', () => {
    const results = all('defectdojo-prowler-output.asff.json');
    expect(results).toHaveLength(731);
    expect(results.filter((r) => r.kind === 'rejected')).toEqual([]);
    const kept = observations(results);
    expect(new Set(kept.map((o) => o.detector))).toEqual(
      new Set([
        'prowler-iam_disable_30_days_credentials',
        'prowler-iam_disable_45_days_credentials',
        'prowler-iam_disable_90_days_credentials',
        'prowler-iam_no_root_access_key',
        'prowler-iam_role_cross_service_confused_deputy_prevention',
        'prowler-iam_rotate_access_key_90_days',
        'prowler-iam_user_two_active_access_key',
      ]),
    );
    expect(kept.find((o) => o.detector === 'prowler-iam_no_root_access_key')!.owaspNhi).toEqual(['NHI5', 'NHI10']);
    expect(kept.length + results.filter((r) => r.kind === 'skipped').length).toBe(731);
  });

  it('reads a lower-case {"findings": [...]} export (AFSBP IAM.5, MFA for console users: not an NHI finding)', () => {
    expect(all('defectdojo-lowercase-findings-iam5.json')).toEqual([
      { kind: 'skipped', reason: 'not a non-human-identity finding' },
    ]);
  });

  it('correlates the same issue on the same resource reported by two products', () => {
    const [iam3] = observations(all('asr-afsbp-iam.3.asff.json'));
    const doc = readFixtureJson<Record<string, unknown>>('scanners', 'aws-securityhub', 'asr-afsbp-iam.3.asff.json');
    const prowler = asffFormat.normalize(
      {
        ...doc,
        Id: 'prowler-1',
        ProductArn: 'arn:aws:securityhub:us-east-1::product/prowler/prowler',
        ProductName: 'Prowler',
        GeneratorId: 'prowler-iam_rotate_access_key_90_days',
        ProductFields: {},
      },
      aContext(),
    );
    expect(prowler.kind === 'observation' && prowler.observation.fingerprint).toBe(iam3!.fingerprint);
  });

  it('redacts a credential quoted in a title (any product can send findings), before cutting it to 300 characters', () => {
    const doc = readFixtureJson<Record<string, unknown>>('scanners', 'aws-securityhub', 'asr-afsbp-iam.3.asff.json');
    const token = 'ghp_' + 'Wq4'.repeat(12);
    const quoted = asffFormat.normalize(
      { ...doc, Title: `IAM.3 key rotation overdue; token ${token} also found in the user's tags` },
      aContext(),
    );
    expect(quoted.kind === 'observation' && quoted.observation.title).toBe(
      "IAM.3 key rotation overdue; token [REDACTED] also found in the user's tags",
    );
    // A secret straddling the 300-character cut is still recognised whole.
    const long = asffFormat.normalize({ ...doc, Title: `${'IAM.3 '.repeat(48)}${token}` }, aContext());
    const title = long.kind === 'observation' ? long.observation.title : '';
    expect(title).toBe(`${'IAM.3 '.repeat(48)}[REDACTED]`);
    expect(title).not.toContain('ghp_');
  });

  it('rejects a finding without Resources, naming the field', () => {
    const doc = readFixtureJson<Record<string, unknown>>('scanners', 'aws-securityhub', 'asr-afsbp-iam.3.asff.json');
    expect(asffFormat.normalize({ ...doc, Resources: undefined }, aContext())).toEqual({
      kind: 'rejected',
      problems: ['"Resources" is required'],
    });
  });
});
