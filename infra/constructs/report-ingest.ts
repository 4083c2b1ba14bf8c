import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { BlockPublicAccess, Bucket, BucketEncryption, EventType, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeWildcardResources } from '../nag';
import { CloseloopFunction } from './closeloop-function';
import { grantLifecycleStart } from './finding-lifecycle';
import { DeadLetterQueue } from './dead-letter-queue';
import type { FindingsTable } from './findings-table';

export interface ReportIngestProps {
  readonly table: FindingsTable;
  readonly deploymentKey: ISecret;
  readonly alarmTopic: ITopic;
  /** Days a report is kept in the bucket. @default 400 (a year plus a quarter, for audit) */
  readonly reportRetentionDays?: number;
  /**
   * The lifecycle state machine's name: each new finding's lifecycle starts right after the
   * ingest's commit, and a clean re-scan resumes a finding's owner-fix wait.
   */
  readonly lifecycleStateMachineName: string;
}

/**
 * Scanner reports dropped into a bucket are ingested: S3 notification → SQS → Lambda (partial
 * batch failures), poison messages to a DLQ with an alarm. Reports hold secrets, so the bucket
 * is private, encrypted, TLS-only, versioned and access-logged.
 */
export class ReportIngest extends Construct {
  readonly bucket: Bucket;
  /** Server access logs (of this bucket and, through the stack, of the report export bucket). */
  readonly accessLogs: Bucket;
  readonly queue: Queue;
  readonly function: CloseloopFunction;
  readonly deadLetters: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: ReportIngestProps) {
    super(scope, id);
    const accessLogs = (this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(props.reportRetentionDays ?? 400) }],
    }));
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "This bucket receives the report and export buckets' server access logs; logging it to itself would recurse.",
    });
    this.bucket = new Bucket(this, 'Reports', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'reports/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { expiration: Duration.days(props.reportRetentionDays ?? 400), noncurrentVersionExpiration: Duration.days(30) },
      ],
    });
    this.deadLetters = new DeadLetterQueue(this, 'DeadLetters', {
      alarmTopic: props.alarmTopic,
      description: 'scanner reports uploaded to S3',
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.minutes(18), // six times the function timeout, as AWS recommends
      deadLetterQueue: { queue: this.deadLetters.queue, maxReceiveCount: 3 },
    });
    this.bucket.addEventNotification(EventType.OBJECT_CREATED, new SqsDestination(this.queue));
    this.function = new CloseloopFunction(this, 'Ingest', {
      entry: 'functions/ingest-s3-report.ts',
      description: 'ingest scanner reports uploaded to S3',
      table: props.table,
      deploymentKey: props.deploymentKey,
      timeout: Duration.minutes(3),
      memorySize: 1024,
    });
    this.bucket.grantRead(this.function.role);
    grantLifecycleStart(this.function, props.lifecycleStateMachineName);
    {
      // Named by ARN pattern: the lifecycle is created later in the stack.
      this.function.role.addToPolicy(
        new PolicyStatement({
          actions: ['states:SendTaskSuccess'],
          resources: [
            Stack.of(this).formatArn({
              service: 'states',
              resource: 'stateMachine',
              resourceName: props.lifecycleStateMachineName,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      );
    }
    Validations.of(this.function.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::s3:GetObject*]',
      reason: 'grantRead: GetObject and its version/ACL variants, needed to read an uploaded report.',
    });
    Validations.of(this.function.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]',
      reason: 'grantRead: bucket metadata reads that come with reading objects of this one bucket.',
    });
    Validations.of(this.function.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::s3:List*]',
      reason: 'grantRead: listing is limited to this one reports bucket.',
    });
    acknowledgeWildcardResources(
      this.function.role,
      [this.bucket.arnForObjects('*')],
      'Reports arrive under keys chosen by the uploading scanner; the function may read any object of this one bucket.',
    );
    this.function.fn.addEventSource(new SqsEventSource(this.queue, { batchSize: 5, reportBatchItemFailures: true }));
  }
}
