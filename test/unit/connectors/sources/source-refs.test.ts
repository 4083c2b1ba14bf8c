import { asffFormat } from '@connectors/sources/asff';
import { githubFormat } from '@connectors/sources/github';
import { gitguardianFormat } from '@connectors/sources/gitguardian';
import { ocsfFormat } from '@connectors/sources/ocsf';
import type { SourceFormat } from '@connectors/sources/types';
import type { Source } from '@core/finding/model';
import { readOwnFixtureJson } from '@test/support/fixtures';
import { aContext } from '@test/support/factories';

const fixture = (dir: string, file: string) => readOwnFixtureJson<Record<string, unknown>>('scanners', dir, file);
/** The source of each observation a document gives. */
function sources(format: SourceFormat, doc: unknown): Source[] {
  return format.records!(doc).flatMap((r) => {
    const n = format.normalize(r, aContext());
    return n.kind === 'observation' ? [n.observation.source] : [];
  });
}

describe('scanner records the hub can write the outcome back to', () => {
  it('a GitHub alert is its repository and number, from the list and from the webhook', () => {
    const [listed] = sources(githubFormat, fixture('github', 'org-alerts.json'));
    expect(listed!.ref).toEqual({
      system: 'github',
      repository: expect.stringMatching(/^[\w.-]+\/[\w.-]+$/),
      alert: expect.any(Number),
    });
    const webhook = fixture('github', 'webhook-secret_scanning_alert-resolved.json') as {
      alert: { number: number };
      repository: { full_name: string };
    };
    const [hooked] = sources(githubFormat, webhook);
    expect(hooked!.ref).toEqual({
      system: 'github',
      repository: webhook.repository.full_name,
      alert: webhook.alert.number,
    });
  });

  it('a GitGuardian incident is its id', () => {
    const doc = fixture('gitguardian', 'incident.json') as { id: number };
    expect(sources(gitguardianFormat, doc)[0]!.ref).toEqual({ system: 'gitguardian', incident: doc.id });
  });

  it('a Security Hub CSPM finding is its product ARN and id', () => {
    const doc = fixture('securityhub', 'asff-lowercase-findings.json') as {
      findings: Array<{ Id: string; ProductArn: string }>;
    };
    const f = doc.findings[0]!;
    expect(sources(asffFormat, doc)[0]!.ref).toEqual({ system: 'securityhub', productArn: f.ProductArn, id: f.Id });
  });

  it('a finding of the new Security Hub is its account, product and finding uids; a Prowler file has no record', () => {
    const [v2] = sources(ocsfFormat, fixture('securityhub', 'findings-imported-v2-iam3.json'));
    expect(v2!.ref).toEqual({
      system: 'securityhub_v2',
      accountUid: '123456789012',
      productUid: 'arn:aws:securityhub:eu-west-1::productv2/aws/securityhub',
      findingUid:
        'arn:aws:securityhub:eu-west-1:123456789012:security-control/IAM.3/finding/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
    });
    const prowler = sources(ocsfFormat, readOwnFixtureJson('scanners', 'prowler', 'v4-ocsf.json'));
    expect(prowler.length).toBeGreaterThan(0);
    expect(prowler.every((s) => s.ref === undefined)).toBe(true);
  });

  it('a Security Hub finding closeloop itself suppressed is not taken for the product resolving it', () => {
    const doc = fixture('securityhub', 'asff-lowercase-findings.json') as { findings: Array<Record<string, unknown>> };
    const base = doc.findings[0]!;
    const state = (f: Record<string, unknown>) => sources(asffFormat, [f])[0]!.state;
    expect(state({ ...base, Workflow: { Status: 'SUPPRESSED' } })).toBe('resolved');
    expect(
      state({ ...base, Workflow: { Status: 'SUPPRESSED' }, Note: { Text: 'closeloop: …', UpdatedBy: 'closeloop' } }),
    ).toBe('open');
    const event = fixture('securityhub', 'findings-imported-v2-iam3.json') as {
      detail: { findings: Array<Record<string, unknown>> };
    };
    const v2 = event.detail.findings[0]!;
    const v2State = (f: Record<string, unknown>) => sources(ocsfFormat, [f])[0]!.state;
    expect(v2State({ ...v2, status: 'Suppressed', status_id: 3 })).toBe('resolved');
    expect(v2State({ ...v2, status: 'Suppressed', status_id: 3, comment: 'closeloop: NHI-… risk accepted' })).toBe(
      'open',
    );
  });
});
