import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { CfnPolicy } from 'aws-cdk-lib/aws-iam';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnRotationSchedule } from 'aws-cdk-lib/aws-secretsmanager';
import { ConfigurationError } from '@core/shared/errors';
import { ROOT, resourcesOfType, synthesize } from '@test/support/synth';

const SAMPLE = join(ROOT, 'samples', 'closeloop.json');
const EU = { account: '123456789012', region: 'eu-west-1' };

function aDeployFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'closeloop-deploy-')), 'closeloop.json');
  writeFileSync(file, content);
  return file;
}

const environmentOf = (stack: Stack, description: string) => {
  const fn = resourcesOfType(stack, 'AWS::Lambda::Function')
    .filter((f): f is CfnFunction => f instanceof CfnFunction)
    .find((f) => f.description === `closeloop: ${description}`);
  return (stack.resolve(fn?.environment) as { variables: Record<string, unknown> }).variables;
};
const policyDocuments = (stack: Stack) =>
  JSON.stringify(
    stack.resolve(
      resourcesOfType(stack, 'AWS::IAM::Policy')
        .filter((p): p is CfnPolicy => p instanceof CfnPolicy)
        .map((p) => p.policyDocument),
    ),
  );

describe('cdk deploy -c config=<deploy file>', () => {
  const { stack, template } = synthesize({ env: EU, context: { config: SAMPLE } });
  const sample = JSON.parse(readFileSync(SAMPLE, 'utf8')) as {
    policy: unknown;
    ticketing: { jira: Record<string, string>; servicenow: Record<string, string> };
  };

  it('gives the functions the policy as written and the Jira and ServiceNow settings, never a credential', () => {
    const sync = environmentOf(stack, 'push ticket work to Jira, ServiceNow and the CMDB');
    expect(JSON.parse(sync.CLOSELOOP_POLICY as string)).toEqual(sample.policy);
    expect(sync).toMatchObject({ ...sample.ticketing.jira, ...sample.ticketing.servicenow });
    expect(JSON.stringify(template)).not.toMatch(/JIRA_API_TOKEN|SERVICENOW_PASSWORD|SERVICENOW_TOKEN/);
    for (const description of ['finding lifecycle step', 'secret rotation machine step', 'auditor reports API'])
      expect(JSON.parse(environmentOf(stack, description).CLOSELOOP_POLICY as string)).toEqual(sample.policy);
  });

  it('schedules the rotations the file names', () => {
    const schedules = resourcesOfType(stack, 'AWS::SecretsManager::RotationSchedule') as CfnRotationSchedule[];
    expect(schedules.map((s) => stack.resolve(s.secretId))).toEqual([
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/ci-deploy-AbCdEf',
    ]);
  });

  it('fails synth with one line naming the file and the field', () => {
    const bad = aDeployFile(JSON.stringify({ policy: { slaDays: { critical: 'two' } } }));
    expect(() => synthesize({ env: EU, context: { config: bad } })).toThrow(
      new ConfigurationError(`${bad}: "policy.slaDays.critical" must be a number, got "two"`),
    );
  });

  it('names a file it cannot read or parse', () => {
    const missing = join(tmpdir(), 'no-such-closeloop.json');
    expect(() => synthesize({ context: { config: missing } })).toThrow(`${missing}: cannot be read (ENOENT)`);
    const broken = aDeployFile('{"policy": {');
    expect(() => synthesize({ context: { config: broken } })).toThrow(
      new ConfigurationError(`${broken}: not valid JSON (line 1, column 13)`),
    );
    // JSON.parse quotes what it could not read; the message must not (a token pasted in the wrong place).
    const pasted = aDeployFile('{"ticketing": {"jira": {"JIRA_API_TOKEN": ATATT3xFfGF0-FAKE}}}');
    expect(() => synthesize({ context: { config: pasted } })).toThrow(
      new ConfigurationError(`${pasted}: not valid JSON`),
    );
  });

  it('refuses rotation targets outside the account, partition or region deployed to', () => {
    expect(() =>
      synthesize({ env: { account: '123456789012', region: 'us-east-1' }, context: { config: SAMPLE } }),
    ).toThrow(
      `${SAMPLE}: "rotation.managedSecretArns[0]" is in eu-west-1, but the stack deploys to us-east-1 (the AWS profile or AWS_REGION chooses where cdk deploys)`,
    );
    expect(() =>
      synthesize({ env: { account: '210987654321', region: 'eu-west-1' }, context: { config: SAMPLE } }),
    ).toThrow(
      `${SAMPLE}: "rotation.managedSecretArns[0]" is in account 123456789012, but the stack deploys to account 210987654321`,
    );
    expect(() =>
      synthesize({ env: { account: '123456789012', region: 'cn-north-1' }, context: { config: SAMPLE } }),
    ).toThrow(
      `"rotation.managedSecretArns[0]" is in partition aws, but the stack deploys to cn-north-1 (partition aws-cn)`,
    );
  });

  it('still takes -c rotation=… (one of the two, not both)', () => {
    const rotation = JSON.stringify({
      managedIamUserArns: ['arn:aws:iam::123456789012:user/ci-deploy'],
      scheduleDays: 7,
    });
    const { stack: legacy } = synthesize({ env: EU, context: { rotation } });
    expect(policyDocuments(legacy)).toContain('arn:aws:iam::123456789012:user/ci-deploy');
    expect(() => synthesize({ env: EU, context: { rotation: '{"scheduleDays": "weekly"}' } })).toThrow(
      '-c rotation: "rotation.scheduleDays" must be a number, got "weekly"',
    );
    expect(() => synthesize({ env: EU, context: { config: SAMPLE, rotation } })).toThrow(
      '-c rotation= and the deploy file\'s "rotation" section both set rotation: keep one (the file)',
    );
  });
});

describe('infra/app.ts, as cdk runs it', () => {
  it('prints the problem with a bad deploy file as one line and exits 1', () => {
    const bad = aDeployFile(JSON.stringify({ policy: { slaDays: { critical: 'two' } } }));
    const run = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'infra/app.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ config: bad }),
        CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk-')),
      },
    });
    expect(run.stderr).toBe(`${bad}: "policy.slaDays.critical" must be a number, got "two"\n`);
    expect(run.status).toBe(1);
  });
});

describe('a deploy file with Jira Data Center and notification channels', () => {
  const file = aDeployFile(
    JSON.stringify({
      policy: {
        notifications: { channels: [{ name: 'secops', kind: 'slack' }], digestIntervalMinutes: 30 },
        ticketRouting: [{ when: { owner: 'team-core*' }, sink: { kind: 'jira-dc' } }],
      },
      ticketing: { 'jira-dc': { JIRA_DC_BASE_URL: 'https://jira.bank.example', JIRA_DC_PROJECT_KEY: 'CORE' } },
    }),
  );
  const { stack, template } = synthesize({ env: EU, context: { config: file } });

  it('gives the sync and webhook functions the Jira DC settings, and the notifier its channels and schedule', () => {
    for (const description of ['push ticket work to Jira, ServiceNow and the CMDB', 'Jira and ServiceNow webhooks'])
      expect(environmentOf(stack, description)).toMatchObject({
        JIRA_DC_BASE_URL: 'https://jira.bank.example',
        JIRA_DC_PROJECT_KEY: 'CORE',
      });
    const notifier = environmentOf(stack, 'tell people where they read: digests to Slack, Teams and email');
    expect(JSON.parse(notifier.CLOSELOOP_POLICY as string).notifications.channels).toEqual([
      { name: 'secops', kind: 'slack' },
    ]);
    const rules = Object.values(
      template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    )
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .map((r) => [r.Properties.Description, r.Properties.ScheduleExpression]);
    expect(rules).toContainEqual(['closeloop: send notification digests', 'rate(30 minutes)']);
    expect(JSON.stringify(template)).not.toMatch(/JIRA_DC_TOKEN|hooks\.slack\.com/);
  });
});
