import { ocsfFormat } from '@connectors/sources/ocsf';
import type { Normalized } from '@connectors/sources/types';
import { readFixtureJson } from '@test/support/shared-fixtures';
import { aContext } from '@test/support/factories';

const normalizeAll = (file: string): Normalized[] => {
  const doc = readFixtureJson('scanners', 'prowler-ocsf', file);
  return ocsfFormat.records!(doc).map((r) => ocsfFormat.normalize(r, aContext()));
};

describe('Prowler JSON-OCSF (contract: DefectDojo samples of Prowler 4.2 and 5)', () => {
  it('detects Prowler JSON-OCSF', () => {
    expect(ocsfFormat.detect(readFixtureJson('scanners', 'prowler-ocsf', 'prowler-4.2-iam-roles.ocsf.json'))).toBe(
      true,
    );
  });

  it('turns the three failed IAM role checks (trust, cross-account) into NHI5 findings on the roles; the muted one resolved at source', () => {
    const results = normalizeAll('prowler-4.2-iam-roles.ocsf.json');
    expect(results.map((r) => r.kind)).toEqual(['observation', 'observation', 'observation']);
    for (const r of results)
      expect(r).toMatchObject({
        observation: {
          owaspNhi: ['NHI5'],
          nhiType: 'service_account',
          source: { scanner: 'prowler' },
          asset: { type: 'aws_resource', account: '123456789012' },
        },
      });
    expect(results.map((r) => r.kind === 'observation' && r.observation.source.state)).toEqual([
      'open',
      'open',
      'resolved',
    ]);
  });

  it('skips the Prowler 5 account checks that are not about identities, and the MANUAL one', () => {
    expect(normalizeAll('prowler-5-example-aws.ocsf.json')).toEqual([
      { kind: 'skipped', reason: 'not a non-human-identity finding' },
      { kind: 'skipped', reason: 'not a non-human-identity finding' },
      { kind: 'skipped', reason: 'not a non-human-identity finding' },
    ]);
  });

  it('reads the empty report as no records (with --format)', () => {
    expect(normalizeAll('prowler-4.2-no-findings.ocsf.json')).toEqual([]);
  });
});
