import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AuthorizationType, LambdaIntegration, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import { AccountRootPrincipal, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeWildcardResources } from '../nag';
import { CloseloopFunction } from './closeloop-function';
import { DeadLetterQueue } from './dead-letter-queue';
import type { FindingsTable } from './findings-table';

/** The report function reads; it never writes. */
export const REPORT_TABLE_ACTIONS = ['dynamodb:Query', 'dynamodb:GetItem'];

export interface ReportApiProps {
  readonly table: FindingsTable;
  /** The hub's API: `GET /reports/{kind}` is added to it, behind IAM authorisation. */
  readonly api: RestApi;
  readonly policy?: Record<string, unknown>;
  /** Where a report export that failed every attempt is reported. */
  readonly alarmTopic: ITopic;
  /** Server access logs of the export bucket go here. */
  readonly accessLogsBucket: IBucket;
  /** Days an export file is kept. @default 30 */
  readonly exportRetentionDays?: number;
}

/**
 * The report API: `GET /reports/{kind}` (sla, ownership, exceptions, rotation, standards, audit)
 * computed by the same code as `closeloop report`; `POST /reports/{kind}/exports` and
 * `GET /reports/exports/{id}` for reports too large for one API call (a background worker writes
 * the file to a private bucket; a presigned link downloads it); and the **auditor role**, which
 * may call those routes and nothing else (no decisions, no ingest, no table access).
 */
export class ReportApi extends Construct {
  readonly function: CloseloopFunction;
  readonly exportFunction: CloseloopFunction;
  readonly exportBucket: Bucket;
  readonly auditorRole: Role;
  /** The key the report API signs its paging cursors with (a cursor sets the report's instant). */
  readonly cursorKey: Secret;

  constructor(scope: Construct, id: string, props: ReportApiProps) {
    super(scope, id);
    // Export files: reports of any size, computed in the background, downloaded by a presigned link.
    this.exportBucket = new Bucket(this, 'Exports', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'report-exports/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(props.exportRetentionDays ?? 30) }],
    });
    const policyEnv: Record<string, string> = props.policy ? { CLOSELOOP_POLICY: JSON.stringify(props.policy) } : {};
    this.exportFunction = new CloseloopFunction(this, 'Export', {
      entry: 'functions/report-export.ts',
      description: 'auditor report exports (background)',
      table: props.table,
      tableActions: REPORT_TABLE_ACTIONS,
      timeout: Duration.minutes(15),
      memorySize: 2048,
      environment: { ...policyEnv, CLOSELOOP_EXPORT_BUCKET: this.exportBucket.bucketName },
    });
    const exportObjects = this.exportBucket.arnForObjects('exports/*');
    const exportRequests = this.exportBucket.arnForObjects('exports/*/request.json');
    this.exportFunction.role.addToPolicy(
      new PolicyStatement({ actions: ['s3:PutObject'], resources: [exportObjects] }),
    );
    const failedExports = new DeadLetterQueue(this, 'ExportDeadLetters', {
      alarmTopic: props.alarmTopic,
      description: 'report exports',
    });
    this.exportFunction.fn.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(failedExports.queue),
    });

    // Its own key, not the deployment key: the report function reads the table, and with the
    // deployment key too it could test guessed secrets against their stored HMACs.
    this.cursorKey = new Secret(this, 'CursorKey', {
      description: 'closeloop report API: HMAC key of the paging cursors',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(this.cursorKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Signs paging cursors that live for one paged read. Replace it at any time with put-secret-value (the function re-reads it within an hour); a cursor in flight then answers 400 and the reader starts again from page one.',
    });
    this.function = new CloseloopFunction(this, 'Reports', {
      entry: 'functions/report-api.ts',
      description: 'auditor reports API',
      table: props.table,
      tableActions: REPORT_TABLE_ACTIONS,
      // API Gateway answers within 29 s; the function may not run longer (larger reports: exports).
      timeout: Duration.seconds(29),
      memorySize: 1024,
      environment: {
        ...policyEnv,
        CLOSELOOP_EXPORT_BUCKET: this.exportBucket.bucketName,
        CLOSELOOP_REPORT_EXPORT_FUNCTION: this.exportFunction.fn.functionArn,
        CLOSELOOP_REPORT_CURSOR_SECRET: this.cursorKey.secretArn,
      },
    });
    this.cursorKey.grantRead(this.function.role);
    // The API records an export's request, reads its status, signs download links and starts the worker.
    this.function.role.addToPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [exportObjects] }));
    this.function.role.addToPolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [exportRequests] }));
    this.function.role.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.exportFunction.fn.functionArn] }),
    );

    const integration = new LambdaIntegration(this.function.fn);
    const reportQuery = ['since', 'owner', 'finding', 'actor', 'validAfterDays'];
    const reportsRoot = props.api.root.addResource('reports');
    const reports = reportsRoot.addResource('{kind}');
    reports.addMethod('GET', integration, {
      authorizationType: AuthorizationType.IAM,
      requestParameters: Object.fromEntries([
        ['method.request.path.kind', true],
        ...['format', ...reportQuery, 'limit', 'cursor'].map((q) => [`method.request.querystring.${q}`, false]),
      ]),
    });
    reports.addResource('exports').addMethod('POST', integration, {
      authorizationType: AuthorizationType.IAM,
      requestParameters: Object.fromEntries([
        ['method.request.path.kind', true],
        ...['format', ...reportQuery].map((q) => [`method.request.querystring.${q}`, false]),
      ]),
    });
    reportsRoot
      .addResource('exports')
      .addResource('{id}')
      .addMethod('GET', integration, {
        authorizationType: AuthorizationType.IAM,
        requestParameters: { 'method.request.path.id': true },
      });

    acknowledgeWildcardResources(
      this.exportFunction.role,
      [exportObjects],
      'Export files are written under exports/<export id>/ with generated ids; only that prefix of the export bucket.',
    );
    acknowledgeWildcardResources(
      this.function.role,
      [exportObjects],
      'Reads export requests, results and files (to sign download links) under exports/<export id>/; only that prefix of the export bucket.',
    );
    acknowledgeWildcardResources(
      this.function.role,
      [exportRequests],
      'Records an export request at exports/<generated export id>/request.json, and nothing else.',
    );

    this.auditorRole = new Role(this, 'AuditorRole', {
      assumedBy: new AccountRootPrincipal(),
      description: 'closeloop auditor: read the reports (GET /reports/*), nothing else',
      maxSessionDuration: Duration.hours(1),
    });
    const readReports = props.api.arnForExecuteApi('GET', '/reports/*', props.api.deploymentStage.stageName);
    const exportReports = props.api.arnForExecuteApi('POST', '/reports/*/exports', props.api.deploymentStage.stageName);
    this.auditorRole.addToPolicy(
      new PolicyStatement({ actions: ['execute-api:Invoke'], resources: [readReports, exportReports] }),
    );
    acknowledgeWildcardResources(
      this.auditorRole,
      [readReports],
      'Exactly the GET /reports/{kind} and GET /reports/exports/{id} routes of this API: "*" stands for the report kind or export id.',
    );
    acknowledgeWildcardResources(
      this.auditorRole,
      [exportReports],
      'Exactly the POST /reports/{kind}/exports routes: "*" stands for the report kind. An export computes a report; it changes nothing else.',
    );
  }
}
