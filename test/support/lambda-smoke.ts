import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { ROOT, type Template } from './synth';

/** One `AWS::Lambda::Function` of a synthesized template, with what Lambda would run. */
export interface DeployedFunction {
  logicalId: string;
  runtime: string;
  handler: string;
  /** The environment as the template writes it (strings or CloudFormation intrinsics). */
  environment: Record<string, unknown>;
  /** The bundled asset in the cloud assembly (directory), for functions deployed from an asset. */
  assetDir?: string;
  /** Inline source (CDK's own custom-resource handlers). */
  inlineCode?: string;
}

/** Every function of the template, its asset found through the stack's asset manifest (as `cdk deploy` finds it). */
export function deployedFunctions(template: Template, assembly: CloudAssembly, stackName: string): DeployedFunction[] {
  const manifest = JSON.parse(readFileSync(join(assembly.directory, `${stackName}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
  };
  const byKey = new Map(
    Object.values(manifest.files).flatMap((f) =>
      Object.values(f.destinations).map((d) => [d.objectKey, join(assembly.directory, f.source.path)] as const),
    ),
  );
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([logicalId, r]) => {
      const p = r.Properties as {
        Runtime: string;
        Handler: string;
        Code: { S3Key?: string; ZipFile?: string };
        Environment?: { Variables?: Record<string, unknown> };
      };
      const assetDir = p.Code.S3Key ? byKey.get(p.Code.S3Key) : undefined;
      return {
        logicalId,
        runtime: p.Runtime,
        handler: p.Handler,
        environment: p.Environment?.Variables ?? {},
        ...(assetDir ? { assetDir } : {}),
        ...(p.Code.ZipFile ? { inlineCode: p.Code.ZipFile } : {}),
      };
    });
}

export interface PlaceholderEnv {
  account: string;
  region: string;
  partition: string;
}

/**
 * The environment a function gets once deployed, with every CloudFormation reference replaced by a
 * placeholder of the real value's shape and typical length (a table name, a secret ARN, a queue URL).
 * A reference to a resource type without a rule fails: extend the rules rather than guess.
 */
export function placeholderEnvironment(
  fn: DeployedFunction,
  template: Template,
  env: PlaceholderEnv,
): Record<string, string> {
  const { account, region, partition } = env;
  const arn = (service: string, resource: string) => `arn:${partition}:${service}:${region}:${account}:${resource}`;
  const physical = (id: string) => `Closeloop-${id}-1A2B3C4D5E6F`;
  const typeOf = (id: string) => {
    const type = template.Resources[id]?.Type;
    if (!type) throw new Error(`${fn.logicalId}: the environment references ${id}, which the template does not have`);
    return type;
  };
  const ref = (id: string): string => {
    if (id === 'AWS::Region') return region;
    if (id === 'AWS::AccountId') return account;
    if (id === 'AWS::Partition') return partition;
    if (id === 'AWS::URLSuffix') return partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
    const type = typeOf(id);
    switch (type) {
      case 'AWS::DynamoDB::Table':
      case 'AWS::S3::Bucket':
      case 'AWS::Lambda::Function':
        return physical(id).toLowerCase();
      case 'AWS::SecretsManager::Secret':
        return arn('secretsmanager', `secret:${id}-AbCdEf`);
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.${ref('AWS::URLSuffix')}/${account}/${physical(id)}`;
      case 'AWS::StepFunctions::StateMachine':
        return arn('states', `stateMachine:${physical(id)}`);
      case 'AWS::SNS::Topic':
        return arn('sns', physical(id));
    }
    throw new Error(`${fn.logicalId}: no placeholder rule for a Ref to ${type} (${id})`);
  };
  const getAtt = (id: string, attribute: string): string => {
    const type = typeOf(id);
    if (attribute === 'Arn' && type === 'AWS::Lambda::Function') return arn('lambda', `function:${physical(id)}`);
    if (attribute === 'Arn' && type === 'AWS::SQS::Queue') return arn('sqs', physical(id));
    if (attribute === 'Arn' && type === 'AWS::DynamoDB::Table') return arn('dynamodb', `table/${physical(id)}`);
    if (attribute === 'Arn' && type === 'AWS::KMS::Key') return arn('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab');
    throw new Error(`${fn.logicalId}: no placeholder rule for Fn::GetAtt ${type}.${attribute} (${id})`);
  };
  const value = (v: unknown): string => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') return ref(o.Ref);
    if (Array.isArray(o['Fn::GetAtt'])) return getAtt(...(o['Fn::GetAtt'] as [string, string]));
    if (Array.isArray(o['Fn::Join'])) {
      const [separator, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(value).join(separator);
    }
    throw new Error(`${fn.logicalId}: no placeholder rule for ${JSON.stringify(v)}`);
  };
  return Object.fromEntries(Object.entries(fn.environment).map(([k, v]) => [k, value(v)]));
}

/**
 * What the Lambda runtime provides beside the bundle: the AWS SDK v3 (the functions mark
 * `@aws-sdk/*` external) and nothing else. A directory holding only a link to the project's
 * `@aws-sdk` packages; any other module the bundle requires is missing, as it would be on Lambda.
 */
export function lambdaRuntimeModules(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'closeloop-runtime-')), 'node_modules');
  mkdirSync(dir);
  symlinkSync(join(ROOT, 'node_modules', '@aws-sdk'), join(dir, '@aws-sdk'), 'dir');
  return dir;
}

export type InitResult = { ok: true; initMs: number; exports: string[] } | { ok: false; error: string };

export interface InitOptions {
  assetDir: string;
  handler: string;
  /** The function's own environment (placeholders for references). */
  environment: Record<string, string>;
  region: string;
  /** Where every AWS SDK client sends its requests (a local fake). */
  awsEndpoint: string;
  /** From lambdaRuntimeModules(). */
  runtimeModules: string;
}

/**
 * Starts the function as a Lambda cold start would: a fresh Node 24 process (the one running the
 * tests), only the variables Lambda sets plus the function's own, placeholder credentials, SDK
 * clients pointed at a local endpoint; the module loads and the named handler must be a function.
 */
export function initFunction(options: InitOptions): Promise<InitResult> {
  const resultFile = join(mkdtempSync(join(tmpdir(), 'closeloop-init-')), 'result.json');
  const env: Record<string, string> = {
    // What the Lambda runtime sets (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
    _HANDLER: options.handler,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: 'closeloop-smoke',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/closeloop-smoke',
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/01/[$LATEST]0123456789abcdef',
    LAMBDA_TASK_ROOT: options.assetDir,
    NODE_PATH: options.runtimeModules,
    TZ: ':UTC',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'placeholder-secret-access-key-for-the-smoke-test',
    AWS_SESSION_TOKEN: 'placeholder-session-token',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: options.awsEndpoint,
    ...options.environment,
  };
  // Source maps only resolve when the .map file was bundled too: keep the function's own NODE_OPTIONS.
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'lambda-init.cjs'), options.assetDir, resultFile], {
      cwd: options.assetDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(readFileSync(resultFile, 'utf8')) as InitResult);
      } catch {
        resolve({ ok: false, error: `exited ${code} before initialising: ${output.trim().split('\n')[0] ?? ''}` });
      }
    });
  });
}
