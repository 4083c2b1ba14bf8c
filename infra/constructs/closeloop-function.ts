import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeWildcardResources } from '../nag';
import type { FindingsTable } from './findings-table';

const ROOT = join(__dirname, '..', '..');

/** DynamoDB actions the ingest path uses (TransactWriteItems needs PutItem/ConditionCheckItem). */
export const INGEST_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

export interface CloseloopFunctionProps {
  /** Handler source file under functions/ (exporting `handler`). */
  readonly entry: string;
  readonly description: string;
  readonly table: FindingsTable;
  /** The HMAC key secret, for functions that see secrets (ingest). @default none */
  readonly deploymentKey?: ISecret;
  /** DynamoDB actions on the table and its indexes ([] for none). @default INGEST_TABLE_ACTIONS */
  readonly tableActions?: string[];
  /** Extra environment variables. @default none */
  readonly environment?: Record<string, string>;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
}

/**
 * A closeloop Lambda: Node.js 24 on arm64, esbuild-bundled and minified (the AWS SDK v3 comes
 * from the runtime), Powertools logger, X-Ray, its own log group, and a role that can write
 * only to that log group and use only the table (and its named indexes) and the deployment key.
 */
export class CloseloopFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: CloseloopFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `closeloop: ${props.description}`,
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.role.addToPolicy(
      new PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }),
    );
    const tableActions = props.tableActions ?? INGEST_TABLE_ACTIONS;
    if (tableActions.length > 0)
      this.role.addToPolicy(new PolicyStatement({ actions: tableActions, resources: props.table.resourceArns }));
    props.deploymentKey?.grantRead(this.role);
    acknowledgeWildcardResources(
      this.role,
      ['*'],
      'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; "*" is the only valid resource.',
    );
    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(ROOT, props.entry),
      handler: 'handler',
      description: `closeloop: ${props.description}`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(1),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup,
      projectRoot: ROOT,
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      environment: {
        CLOSELOOP_TABLE: props.table.table.tableName,
        ...(props.deploymentKey ? { CLOSELOOP_DEPLOYMENT_KEY_SECRET: props.deploymentKey.secretArn } : {}),
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: 'closeloop',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node24',
        format: OutputFormat.CJS,
        tsconfig: join(ROOT, 'tsconfig.json'),
        externalModules: ['@aws-sdk/*'],
      },
    });
  }
}
