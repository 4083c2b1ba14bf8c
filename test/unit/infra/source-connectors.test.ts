import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { synthesize, unacknowledgedNagFindings } from '@test/support/synth';

/** The stack as `cdk deploy -c config=<file>` builds it in eu-west-1, from a deploy file with these sections. */
function stackWith(config: Record<string, unknown>) {
  const file = join(mkdtempSync(join(tmpdir(), 'closeloop-sources-')), 'closeloop.json');
  writeFileSync(file, JSON.stringify(config));
  const synthesized = synthesize({ env: { account: '123456789012', region: 'eu-west-1' }, context: { config: file } });
  return { ...synthesized, t: Template.fromStack(synthesized.stack) };
}
const fnByDescription = (t: Template, description: string) =>
  Object.entries(
    t.findResources('AWS::Lambda::Function', { Properties: { Description: `closeloop: ${description}` } }),
  );
const statementsOf = (t: Template, roleLogicalIdPrefix: string) =>
  Object.entries(t.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith(roleLogicalIdPrefix))
    .flatMap(
      ([, p]) =>
        (p.Properties as { PolicyDocument: { Statement: Array<Record<string, unknown>> } }).PolicyDocument.Statement,
    );

describe('the scanners, both ways, in the stack', () => {
  it('deploys no pull, no webhook and no scanner secret without a sources section; only the Security Hub write-back', () => {
    const { t, assembly } = stackWith({});
    expect(fnByDescription(t, 'pull GitHub secret scanning alerts')).toEqual([]);
    expect(fnByDescription(t, 'pull GitGuardian secret incidents')).toEqual([]);
    expect(fnByDescription(t, 'GitHub secret scanning webhook')).toEqual([]);
    expect(t.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: 'github' } })).toEqual({});
    expect(t.findOutputs('SourcesSecret')).toEqual({});
    const [[, writeback]] = fnByDescription(t, 'write outcomes back to GitHub, GitGuardian and Security Hub') as [
      [string, { Properties: { Environment: { Variables: Record<string, unknown> } } }],
    ];
    expect(writeback.Properties.Environment.Variables).not.toHaveProperty('CLOSELOOP_SOURCES');
    t.hasResourceProperties('AWS::Events::Rule', {
      Description: 'closeloop: write-back to the scanners',
      ScheduleExpression: 'rate(1 minute)',
    });
    expect(unacknowledgedNagFindings(assembly)).toEqual([]);
  });

  it('lets the write-back set only a finding’s workflow status and note, on this account’s Security Hub', () => {
    const { t } = stackWith({});
    const statements = statementsOf(t, 'SourcesWritebackRole').filter(
      (s) => s.Action === 'securityhub:BatchUpdateFindings',
    );
    const allow = statements.filter((s) => s.Effect === 'Allow');
    expect(allow).toEqual([
      expect.objectContaining({
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':securityhub:eu-west-1:123456789012:hub/default']],
        },
      }),
    ]);
    const denied = statements
      .filter((s) => s.Effect === 'Deny')
      .map((s) => Object.keys((s.Condition as { Null: object }).Null)[0]);
    expect(denied).toEqual(
      expect.arrayContaining(['securityhub:ASFFSyntaxPath/Severity.Label', 'securityhub:OCSFSyntaxPath/SeverityId']),
    );
    expect(denied).not.toContain('securityhub:ASFFSyntaxPath/Workflow.Status');
    expect(denied).not.toContain('securityhub:ASFFSyntaxPath/Note.Text');
  });

  it('pulls GitHub and GitGuardian on their schedules, each with its own dead-letter queue and alarm', () => {
    const { t, assembly } = stackWith({
      sources: { github: { org: 'acme', repo: 'partner/api', scheduleMinutes: 30 }, gitguardian: {} },
    });
    for (const [description, scopes] of [
      ['pull GitHub secret scanning alerts', 'org:acme,repo:partner/api'],
      ['pull GitGuardian secret incidents', undefined],
    ] as const) {
      const [[, fn]] = fnByDescription(t, description) as [[string, { Properties: Record<string, unknown> }]];
      expect(fn.Properties).toMatchObject({ Timeout: 900, Runtime: 'nodejs24.x', Architectures: ['arm64'] });
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables).toHaveProperty('CLOSELOOP_SOURCES_SECRET');
      expect(variables.CLOSELOOP_GITHUB_SCOPES).toBe(scopes);
    }
    t.hasResourceProperties('AWS::Events::Rule', {
      Description: 'closeloop: GitHub secret scanning pull',
      ScheduleExpression: 'rate(30 minutes)',
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      Description: 'closeloop: GitGuardian incidents pull',
      ScheduleExpression: 'rate(1 hour)',
    });
    // A run that fails after its retries lands in its own queue, which alarms.
    for (const what of [
      'GitHub secret scanning pull runs',
      'GitGuardian incidents pull runs',
      'write-back to the scanners runs',
    ])
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmDescription: `closeloop: ${what} failed repeatedly and were moved to a dead-letter queue`,
        AlarmActions: [Match.anyValue()],
      });
    t.resourcePropertiesCountIs(
      'AWS::Lambda::EventInvokeConfig',
      { DestinationConfig: { OnFailure: Match.anyValue() } },
      6, // the two pulls and the write-back, besides the report exports, the notifier and the audit digests
    );
    expect(Object.keys(t.findOutputs('SourcesSecret'))).toHaveLength(1);
    const [[, writeback]] = fnByDescription(t, 'write outcomes back to GitHub, GitGuardian and Security Hub') as [
      [string, { Properties: { Environment: { Variables: Record<string, unknown> } } }],
    ];
    expect(writeback.Properties.Environment.Variables.CLOSELOOP_SOURCES).toBe('github,gitguardian');
    expect(unacknowledgedNagFindings(assembly)).toEqual([]);
  });

  it('serves POST /webhooks/github without IAM (signed by GitHub), and reads GitHub Enterprise Server’s API', () => {
    const { t } = stackWith({ sources: { github: { apiUrl: 'https://ghe.acme.example/api/v3' } } });
    const [githubId] = Object.keys(
      t.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: 'github' } }),
    );
    t.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'NONE',
      ResourceId: { Ref: githubId },
    });
    // No organisation or repository: webhook and write-back, no scheduled pull.
    expect(fnByDescription(t, 'pull GitHub secret scanning alerts')).toEqual([]);
    const [[, writeback]] = fnByDescription(t, 'write outcomes back to GitHub, GitGuardian and Security Hub') as [
      [string, { Properties: { Environment: { Variables: Record<string, unknown> } } }],
    ];
    expect(writeback.Properties.Environment.Variables).toMatchObject({
      CLOSELOOP_SOURCES: 'github',
      GITHUB_API_URL: 'https://ghe.acme.example/api/v3',
    });
  });
});
