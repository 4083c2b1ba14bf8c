import { asffFormat } from '@connectors/sources/asff';
import { ocsfFormat } from '@connectors/sources/ocsf';
import type { Normalized } from '@connectors/sources/types';
import type { Observation } from '@core/finding/model';
import { readOwnFixtureJson } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

const fixture = (file: string) => readOwnFixtureJson<Record<string, unknown>>('scanners', 'securityhub', file);
const normalizeAll = (doc: unknown): Normalized[] =>
  asffFormat.records!(doc).map((r) => asffFormat.normalize(r, aContext()));
const observations = (results: Normalized[]): Observation[] =>
  results.flatMap((r) => (r.kind === 'observation' ? [r.observation] : []));
const iam3 = () => (fixture('asff-lowercase-findings.json').findings as Array<Record<string, unknown>>)[0]!;

describe('AWS Security Hub ASFF connector', () => {
  it('reads a {"findings": [...]} export with the key in lower case', () => {
    const doc = fixture('asff-lowercase-findings.json');
    expect(asffFormat.detect(doc)).toBe(true);
    const [o] = observations(normalizeAll(doc));
    expect(o).toMatchObject({
      nhiType: 'cloud_access_key',
      owaspNhi: ['NHI7'],
      detector: 'IAM.3',
      asset: { type: 'aws_resource', id: 'arn:aws:iam::123456789012:user/ci-deployer', account: '123456789012' },
      source: { scanner: 'security-hub' },
    });
  });

  it('reads an empty {"Findings": []} export as no records', () => {
    const doc = fixture('asff-findings-empty.json');
    expect(asffFormat.detect(doc)).toBe(true);
    expect(asffFormat.records!(doc)).toEqual([]);
  });

  it('refuses an object that is not ASFF instead of reading it as no findings', () => {
    expect(() => asffFormat.records!({ results: [] })).toThrow(
      'expected a finding, a list of findings, {"Findings": [...]} or a Security Hub event',
    );
  });

  it('is one finding with the OCSF report of the same control on the same user (the new Security Hub)', () => {
    const [asff] = observations(normalizeAll(fixture('asff-lowercase-findings.json')));
    const event = fixture('findings-imported-v2-iam3.json');
    const [ocsf] = ocsfFormat.records!(event).map((r) => ocsfFormat.normalize(r, aContext()));
    expect(ocsf!.kind === 'observation' && ocsf!.observation.fingerprint).toBe(asff!.fingerprint);
  });

  it('skips a passed control and an archived finding', () => {
    const passed = asffFormat.normalize({ ...iam3(), Compliance: { Status: 'PASSED' } }, aContext());
    const archived = asffFormat.normalize({ ...iam3(), RecordState: 'ARCHIVED' }, aContext());
    expect(passed).toEqual({ kind: 'skipped', reason: 'control passed' });
    expect(archived).toEqual({ kind: 'skipped', reason: 'archived' });
  });

  it('skips findings that are not about non-human identities', () => {
    const s3 = asffFormat.normalize(
      {
        ...iam3(),
        GeneratorId: 'security-control/S3.1',
        Title: 'S3 general purpose buckets should have block public access settings enabled',
        Compliance: { Status: 'FAILED', SecurityControlId: 'S3.1' },
        Resources: [{ Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::acme-logs' }],
      },
      aContext(),
    );
    expect(s3).toEqual({ kind: 'skipped', reason: 'not a non-human-identity finding' });
  });

  it('redacts a credential quoted in a title (any product can send findings), before cutting it to 300 characters', () => {
    const token = 'ghp_' + 'Wq4'.repeat(12);
    const quoted = asffFormat.normalize(
      { ...iam3(), Title: `IAM.3 key rotation overdue; token ${token} also found in the user's tags` },
      aContext(),
    );
    expect(quoted.kind === 'observation' && quoted.observation.title).toBe(
      "IAM.3 key rotation overdue; token [REDACTED] also found in the user's tags",
    );
    const long = asffFormat.normalize({ ...iam3(), Title: `${'IAM.3 '.repeat(48)}${token}` }, aContext());
    const title = long.kind === 'observation' ? long.observation.title : '';
    expect(title).toBe(`${'IAM.3 '.repeat(48)}[REDACTED]`);
  });

  it('rejects a finding without Resources, naming the field', () => {
    expect(asffFormat.normalize({ ...iam3(), Resources: undefined }, aContext())).toEqual({
      kind: 'rejected',
      problems: ['"Resources" is required'],
    });
  });
});
