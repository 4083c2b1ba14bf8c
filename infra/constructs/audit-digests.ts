import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { AccountRootPrincipal, AnyPrincipal, Effect, PolicyDocument, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectLockRetention, type IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ANOMALY_METRIC } from '../../core/audit/digest-writer';
import { DIGEST_PREFIX } from '../../core/audit/digest';
import { acknowledgeWildcardResources } from '../nag';
import { CloseloopFunction } from './closeloop-function';
import { DeadLetterQueue } from './dead-letter-queue';
import type { FindingsTable } from './findings-table';

/** The digest writer reads every chain head from the base table (Scan) and the events after a sealed head (Query); it writes nothing there. */
export const DIGEST_WRITER_TABLE_ACTIONS = ['dynamodb:Scan', 'dynamodb:Query'];
/** What `closeloop audit verify` needs of the table, run with the verifier role. */
export const AUDIT_VERIFIER_TABLE_ACTIONS = ['dynamodb:Scan', 'dynamodb:Query'];

/** Administration of the signing key by the account: everything but using it. */
const KEY_ADMINISTRATION = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

export interface AuditDigestsProps {
  readonly table: FindingsTable;
  readonly alarmTopic: ITopic;
  /** Server access logs of the digest bucket go here. */
  readonly accessLogsBucket: IBucket;
  /** Minutes between digests (policy `audit.digestIntervalMinutes`). @default 60 */
  readonly intervalMinutes?: number;
  /** Days each digest is locked in compliance mode (policy `audit.digestRetentionDays`). @default 365 */
  readonly retentionDays?: number;
}

/**
 * The audit trail's tamper evidence, as CloudTrail's log file integrity validation does it: a
 * scheduled digest writer, with a role of its own, seals every chain head that changed into a
 * digest chained to the one before, signed with an asymmetric KMS key only that role may use, and
 * kept in an S3 bucket with Object Lock in compliance mode. No other role of the stack may sign
 * with the key or write the bucket (key and bucket policies deny everyone else, whatever their
 * IAM policies say); nobody may delete a digest (Object Lock, and a bucket policy that refuses
 * delete markers). Auditors verify with the `AuditVerifierRole`: read the table and the digests,
 * fetch the public key; nothing else.
 */
export class AuditDigests extends Construct {
  readonly bucket: Bucket;
  readonly key: Key;
  readonly writer: CloseloopFunction;
  readonly deadLetters: DeadLetterQueue;
  readonly verifierRole: Role;

  constructor(scope: Construct, id: string, props: AuditDigestsProps) {
    super(scope, id);
    const intervalMinutes = props.intervalMinutes ?? 60;
    this.bucket = new Bucket(this, 'Digests', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(Duration.days(props.retentionDays ?? 365)),
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'audit-digests/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Administered by the account, used for signing by the digest writer alone: no IAM policy in
    // the account can grant kms:Sign on it to anyone else (the key policy denies it).
    this.key = new Key(this, 'SigningKey', {
      description: 'closeloop audit trail: signs digests (only the digest writer may use it)',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new PolicyDocument({
        statements: [
          new PolicyStatement({
            sid: 'KeyAdministrationByTheAccount',
            principals: [new AccountRootPrincipal()],
            actions: KEY_ADMINISTRATION,
            resources: ['*'],
          }),
          new PolicyStatement({
            sid: 'AnyoneInTheAccountMayVerify',
            principals: [new AccountRootPrincipal()],
            actions: ['kms:GetPublicKey', 'kms:Verify', 'kms:DescribeKey'],
            resources: ['*'],
          }),
        ],
      }),
    });

    this.writer = new CloseloopFunction(this, 'Writer', {
      entry: 'functions/audit-digest.ts',
      description: 'audit trail digest writer',
      table: props.table,
      // On the base table only, below: it never reads an index (a table writer can edit those).
      tableActions: [],
      // A Scan of the whole table's keys, then the new events of what changed.
      timeout: Duration.minutes(15),
      memorySize: 1024,
      environment: { CLOSELOOP_DIGEST_BUCKET: this.bucket.bucketName, CLOSELOOP_DIGEST_KEY: this.key.keyArn },
    });
    // One digest at a time: a second writer would only lose the race for the sequence number.
    (this.writer.fn.node.defaultChild as CfnFunction).reservedConcurrentExecutions = 1;
    const writerArn = this.writer.role.roleArn;
    const digests = this.bucket.arnForObjects(`${DIGEST_PREFIX}*`);
    this.writer.role.addToPolicy(
      new PolicyStatement({ actions: DIGEST_WRITER_TABLE_ACTIONS, resources: [props.table.table.tableArn] }),
    );
    this.writer.role.addToPolicy(new PolicyStatement({ actions: ['kms:Sign'], resources: [this.key.keyArn] }));
    this.writer.role.addToPolicy(
      new PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [digests] }),
    );
    this.writer.role.addToPolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringEquals: { 's3:prefix': DIGEST_PREFIX } },
      }),
    );
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'SignOnlyAsTheDigestWriter',
        principals: [this.writer.role],
        actions: ['kms:Sign'],
        resources: ['*'],
      }),
    );
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'NobodyElseSigns',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': writerArn } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyTheDigestWriterWrites',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': writerArn } },
      }),
    );
    // Object Lock keeps every version; without delete markers a digest cannot even be hidden.
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'NobodyDeletesOrUnlocks',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: [
          's3:DeleteObject',
          's3:DeleteObjectVersion',
          's3:PutObjectRetention',
          's3:PutObjectLegalHold',
          's3:BypassGovernanceRetention',
        ],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );

    this.deadLetters = new DeadLetterQueue(this, 'DeadLetters', {
      alarmTopic: props.alarmTopic,
      description: 'audit digest runs',
    });
    this.writer.fn.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(this.deadLetters.queue),
    });
    new Rule(this, 'Schedule', {
      description: `closeloop: seal the audit trail every ${intervalMinutes} minutes`,
      schedule: Schedule.rate(Duration.minutes(intervalMinutes)),
    }).addTarget(
      new LambdaFunction(this.writer.fn, {
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: this.deadLetters.queue,
      }),
    );
    const alarm = (name: string, alarm: Alarm) => {
      alarm.addAlarmAction(new SnsAction(props.alarmTopic));
      return alarm;
    };
    alarm(
      'Failed',
      new Alarm(this, 'WriterFailed', {
        alarmDescription: 'closeloop: the audit digest writer failed; what changed stays unsealed until it runs',
        metric: this.writer.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    alarm(
      'Stopped',
      new Alarm(this, 'WriterStopped', {
        alarmDescription: `closeloop: no audit digest run for ${2 * intervalMinutes} minutes (schedule disabled or the function gone)`,
        metric: this.writer.fn.metricInvocations({ period: Duration.minutes(2 * intervalMinutes), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.BREACHING,
      }),
    );
    alarm(
      'Anomalies',
      new Alarm(this, 'TrailAnomalies', {
        alarmDescription:
          'closeloop: the audit trail disagrees with its digests (a chain cut, rewritten or deleted); run closeloop audit verify',
        metric: new Metric({
          namespace: ANOMALY_METRIC.namespace,
          metricName: ANOMALY_METRIC.name,
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    // Auditors verify with their own copy of closeloop: read the table and the digests, fetch the public key.
    this.verifierRole = new Role(this, 'VerifierRole', {
      assumedBy: new AccountRootPrincipal(),
      description: 'closeloop audit verifier: read the table and the digests, fetch the public key; nothing else',
      maxSessionDuration: Duration.hours(1),
    });
    this.verifierRole.addToPolicy(
      new PolicyStatement({ actions: AUDIT_VERIFIER_TABLE_ACTIONS, resources: [props.table.table.tableArn] }),
    );
    this.verifierRole.addToPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [digests] }));
    this.verifierRole.addToPolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringEquals: { 's3:prefix': DIGEST_PREFIX } },
      }),
    );
    this.verifierRole.addToPolicy(new PolicyStatement({ actions: ['kms:GetPublicKey'], resources: [this.key.keyArn] }));

    acknowledgeWildcardResources(
      this.writer.role,
      [digests],
      'Digests are written once each under digests/<sequence number>; only that prefix of the digest bucket, whose Object Lock refuses any overwrite or deletion.',
    );
    acknowledgeWildcardResources(
      this.verifierRole,
      [digests],
      'Reads the digests under digests/ to verify the audit trail; read-only, and only that prefix.',
    );
  }
}
