import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { AwsSolutionsChecks } from 'cdk-nag';
import { acknowledgeWildcardResources, nagName } from '@infra/nag';
import { ROOT, staleIamAcknowledgements, synthesize, unacknowledgedNagFindings } from '@test/support/synth';

const ACCOUNT = '123456789012';
const SAMPLE_CONFIG = join(ROOT, 'samples', 'closeloop.json');

/** samples/closeloop.json with its ARNs moved to the partition, region and account deployed to. */
function sampleConfigFor(region: string): string {
  const partition = RegionInfo.get(region).partition!;
  const text = readFileSync(SAMPLE_CONFIG, 'utf8')
    .replaceAll('arn:aws:', `arn:${partition}:`)
    .replaceAll(':eu-west-1:', `:${region}:`);
  const file = join(mkdtempSync(join(tmpdir(), 'closeloop-config-')), 'closeloop.json');
  writeFileSync(file, text);
  return file;
}

interface Variant {
  name: string;
  env?: { account?: string; region: string };
  context?: Record<string, unknown>;
}

// What users synthesize: `cdk synth` without credentials (environment-agnostic), and `cdk deploy`
// with a profile (a concrete account and region), in three partitions, with and without a deploy file.
const VARIANTS: Variant[] = [
  { name: 'environment-agnostic' },
  { name: 'environment-agnostic, with the sample deploy file', context: { config: SAMPLE_CONFIG } },
  // `cdk synth` without credentials: the CLI's default region, no account.
  { name: 'us-east-1 (aws), account unknown', env: { region: 'us-east-1' } },
  { name: 'eu-west-1 (aws)', env: { account: ACCOUNT, region: 'eu-west-1' } },
  {
    name: 'eu-west-1 (aws), with the sample deploy file',
    env: { account: ACCOUNT, region: 'eu-west-1' },
    context: { config: SAMPLE_CONFIG },
  },
  {
    name: 'eu-west-1 (aws), rotation from -c rotation= (the older way)',
    env: { account: ACCOUNT, region: 'eu-west-1' },
    context: {
      rotation: JSON.stringify((JSON.parse(readFileSync(SAMPLE_CONFIG, 'utf8')) as { rotation: unknown }).rotation),
    },
  },
  {
    name: 'us-east-2 (aws), with the sample deploy file',
    env: { account: ACCOUNT, region: 'us-east-2' },
    context: { config: sampleConfigFor('us-east-2') },
  },
  {
    name: 'cn-north-1 (aws-cn), with the sample deploy file',
    env: { account: ACCOUNT, region: 'cn-north-1' },
    context: { config: sampleConfigFor('cn-north-1') },
  },
  {
    name: 'us-gov-west-1 (aws-us-gov), with the sample deploy file',
    env: { account: ACCOUNT, region: 'us-gov-west-1' },
    context: { config: sampleConfigFor('us-gov-west-1') },
  },
  {
    // With this feature flag CDK writes the partition as a literal (arn:aws-cn:…) instead of AWS::Partition.
    name: 'cn-north-1 (aws-cn), partition literals on',
    env: { account: ACCOUNT, region: 'cn-north-1' },
    context: { config: sampleConfigFor('cn-north-1'), '@aws-cdk/core:enablePartitionLiterals': true },
  },
];

describe.each(VARIANTS)('the stack synthesized $name', ({ env, context }) => {
  const { stack, assembly, template } = synthesize({ ...(env ? { env } : {}), ...(context ? { context } : {}) });
  // The ARNs a deploy file names are the operator's; everything else the stack builds itself.
  const operatorArns = context?.config
    ? [...readFileSync(context.config as string, 'utf8').matchAll(/"(arn:[^"]+)"/g)].map((m) => m[1]!)
    : [];
  const text = operatorArns.reduce((t, arn) => t.replaceAll(arn, '<operator ARN>'), JSON.stringify(template));

  it('passes cdk-nag AwsSolutions with nothing unacknowledged', () => {
    expect(unacknowledgedNagFindings(assembly)).toEqual([]);
  });

  it('acknowledges only wildcards and managed policies the template really grants', () => {
    expect(staleIamAcknowledgements(stack)).toEqual([]);
  });

  it('names its own account and region, or none', () => {
    if (env?.account) {
      expect(text).not.toContain('AWS::Region');
      expect(text).toContain(`:${env.region}:${env.account}:`);
    } else if (env) {
      expect(text).not.toContain('AWS::Region');
      expect(text).toContain('AWS::AccountId');
      expect(text).toContain(`:${env.region}:`);
    } else {
      expect(text).toContain('AWS::Region');
      expect(text).not.toMatch(/:(eu|us|cn)-[a-z]+-\d:\d{12}:/);
    }
  });

  it('writes no partition of another environment into an ARN', () => {
    const partitions = new Set([...text.matchAll(/arn:(aws[a-z-]*):/g)].map((m) => m[1]));
    const own = env ? RegionInfo.get(env.region).partition : undefined;
    for (const p of partitions) expect(p).toBe(own);
    if (context?.['@aws-cdk/core:enablePartitionLiterals']) expect(partitions).toEqual(new Set(['aws-cn']));
  });
});

describe('the environment-agnostic stack', () => {
  it('needs no region lookup table, so it deploys unchanged into any partition (cdk.json targets aws, aws-cn, aws-us-gov)', () => {
    const { template } = synthesize({ context: { config: SAMPLE_CONFIG } });
    expect(template.Mappings ?? {}).toEqual({});
  });
});

describe('acknowledgements computed from the value the policy grants', () => {
  function stackGranting(acknowledge: (role: Role, resource: string) => void) {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'closeloop-nag-')) });
    const stack = new Stack(app, 'Wildcard', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    const role = new Role(stack, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    const resource = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:DescribeSecret'], resources: [resource] }));
    acknowledge(role, resource);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    return { stack, resource, synth: () => app.synth() };
  }

  it('name the literals a concrete environment renders', () => {
    const { stack, resource } = stackGranting(() => undefined);
    expect(nagName(stack, resource)).toBe('arn:<AWS::Partition>:secretsmanager:eu-west-1:123456789012:secret:*');
  });

  it('pass where the token form written by hand (the first release) fails', () => {
    const byHand = stackGranting((role) =>
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:*]',
        reason: 'written for an environment-agnostic stack',
      }),
    );
    expect(byHand.synth).toThrow(/The IAM entity contains wildcard permissions/);
    const computed = stackGranting((role, resource) => acknowledgeWildcardResources(role, [resource], 'computed'));
    expect(computed.synth).not.toThrow();
  });
});
