import { readFileSync } from 'node:fs';
import { App, Token, Validations } from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseDeployConfig, type DeployConfig, type RotationSettings } from '../connectors/deploy-config';
import { ConfigurationError } from '../core/shared/errors';
import { CloseloopStack } from './closeloop-stack';

/** Where JSON.parse gave up, never what it read there: V8's message quotes the text, which may hold a token. */
function notJson(err: unknown): string {
  const at = /line (\d+) column (\d+)/.exec(String((err as Error).message));
  return at ? `not valid JSON (line ${at[1]}, column ${at[2]})` : 'not valid JSON';
}

/**
 * The deploy file named by `-c config=path/to/closeloop.json`, checked with the schemas the
 * functions use; `-c rotation='{…}'` (the older way) fills the `rotation` section when the file
 * has none. Problems name the file and the field.
 */
export function loadDeployConfig(app: App): { config: DeployConfig; rotationSource?: string } {
  const file = app.node.tryGetContext('config') as unknown;
  const rotation = app.node.tryGetContext('rotation') as unknown;
  let config: DeployConfig = {};
  let rotationSource: string | undefined;
  if (file !== undefined) {
    if (typeof file !== 'string' || file.trim() === '')
      throw new ConfigurationError('-c config= must name a deploy file, e.g. -c config=closeloop.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigurationError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
        cause: err,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      // No cause: it would carry the quoted text.
      throw new ConfigurationError(`${file}: ${notJson(err)}`);
    }
    config = parseDeployConfig(json, file);
    if (config.rotation) rotationSource = file;
  }
  if (rotation !== undefined) {
    if (config.rotation)
      throw new ConfigurationError(
        '-c rotation= and the deploy file\'s "rotation" section both set rotation: keep one (the file)',
      );
    let json: unknown = rotation;
    if (typeof rotation === 'string') {
      try {
        json = JSON.parse(rotation);
      } catch (err) {
        throw new ConfigurationError(`-c rotation: ${notJson(err)}`);
      }
    }
    const checked = parseDeployConfig({ rotation: json }, '-c rotation');
    if (checked.rotation) {
      config = { ...config, rotation: checked.rotation };
      rotationSource = '-c rotation';
    }
  }
  return { config, ...(rotationSource ? { rotationSource } : {}) };
}

// Where cdk takes the environment from (it overrides CDK_DEFAULT_REGION with its own).
const HINT = ' (the AWS profile or AWS_REGION chooses where cdk deploys)';

/**
 * Rotation targets must be in the account, partition and (secrets) region the stack deploys to:
 * the rotation function and the IAM grants cannot reach another account's secrets or users.
 */
export function checkRotationTargets(
  rotation: RotationSettings,
  env: { account?: string; region?: string },
  source: string,
): void {
  const region = env.region && !Token.isUnresolved(env.region) ? env.region : undefined;
  const account = env.account && !Token.isUnresolved(env.account) ? env.account : undefined;
  const partition = region ? RegionInfo.get(region).partition : undefined;
  const problems: string[] = [];
  const fields = ['managedSecretArns', 'managedIamUserArns', 'containmentIamUserArns'] as const;
  for (const field of fields)
    (rotation[field] ?? []).forEach((arn, i) => {
      const [, p, service, r, a] = arn.split(':');
      const where = `"rotation.${field}[${i}]"`;
      if (partition && p !== partition)
        problems.push(
          `${where} is in partition ${p}, but the stack deploys to ${region} (partition ${partition})${HINT}`,
        );
      else if (account && a !== account)
        problems.push(`${where} is in account ${a}, but the stack deploys to account ${account}${HINT}`);
      else if (region && service === 'secretsmanager' && r !== region)
        problems.push(`${where} is in ${r}, but the stack deploys to ${region}${HINT}`);
    });
  if (problems.length > 0) throw new ConfigurationError(`${source}: ${problems.join('; ')}`);
}

/**
 * The closeloop CDK app as `cdk synth` and `cdk deploy` build it: the stack in the CLI's
 * account and region (environment-agnostic when they are unknown), configured from the deploy
 * file, with cdk-nag's AwsSolutions checks on every synth.
 */
export function closeloopApp(
  app: App,
  env: { account?: string; region?: string } = {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  },
): CloseloopStack {
  const { config, rotationSource } = loadDeployConfig(app);
  if (config.rotation && rotationSource) checkRotationTargets(config.rotation, env, rotationSource);
  const stack = new CloseloopStack(app, app.node.tryGetContext('stackName') ?? 'Closeloop', {
    env,
    description: 'closeloop: owned, deadlined, evidenced remediation of non-human-identity findings',
    ...config,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

if (require.main === module) {
  try {
    closeloopApp(new App());
  } catch (err) {
    // A bad deploy file is one line naming the file and the field, not a stack trace.
    if (!(err instanceof ConfigurationError)) throw err;
    console.error(err.message);
    process.exitCode = 1;
  }
}
