import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { PolicySchema } from '../../core/policy/policy';
import { CloseloopFunction } from './closeloop-function';
import { DeadLetterQueue } from './dead-letter-queue';
import type { FindingsTable } from './findings-table';

/** DynamoDB actions of the notifier: notices, channel queues and digests (transactions), and findings to describe. */
export const NOTIFY_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:ConditionCheckItem',
];

export interface NotificationsProps {
  readonly table: FindingsTable;
  /** Where the notifier's alarms go (on-call), not the notifications themselves. */
  readonly alarmTopic: ITopic;
  /** The remediation policy: its `notifications` name the channels. @default the shipped defaults (no channel) */
  readonly policy?: Record<string, unknown>;
  /** Time between notifier runs. @default the policy's notifications.digestIntervalMinutes (15 minutes) */
  readonly interval?: Duration;
}

/**
 * Telling people where they read: the notifier Lambda on a schedule (at most one digest per
 * channel per run), the encrypted SNS topic email channels publish to (subscribe addresses with a
 * filter on the `channel` attribute), and the secret that holds the Slack / Teams webhook URLs.
 * A failed run is retried twice, then lands in a DLQ that alarms; errors alarm at once.
 */
export class Notifications extends Construct {
  readonly topic: Topic;
  readonly webhooks: Secret;
  readonly notifier: CloseloopFunction;
  readonly deadLetters: DeadLetterQueue;
  readonly errors: Alarm;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const key = new Key(this, 'TopicKey', {
      enableKeyRotation: true,
      description: 'closeloop notification topic encryption',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.topic = new Topic(this, 'Topic', { displayName: 'closeloop notifications', masterKey: key, enforceSSL: true });

    this.webhooks = new Secret(this, 'Webhooks', {
      description: 'closeloop notification channels: {"<channel name>": "<Slack or Teams webhook URL>"} (JSON)',
      secretObjectValue: {},
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.webhooks).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Slack and Teams issue incoming-webhook URLs; Secrets Manager cannot create new ones. They are rotated by creating a new webhook there and updating this secret (README).',
    });

    const policy = PolicySchema.parse(props.policy ?? {});
    this.notifier = new CloseloopFunction(this, 'Notifier', {
      entry: 'functions/notifier.ts',
      description: 'tell people where they read: digests to Slack, Teams and email',
      table: props.table,
      tableActions: NOTIFY_TABLE_ACTIONS,
      environment: {
        CLOSELOOP_NOTIFY_SECRET: this.webhooks.secretArn,
        CLOSELOOP_NOTIFY_TOPIC_ARN: this.topic.topicArn,
        ...(props.policy ? { CLOSELOOP_POLICY: JSON.stringify(props.policy) } : {}),
      },
      timeout: Duration.minutes(2),
    });
    this.webhooks.grantRead(this.notifier.role);
    // Publish to this topic only; its key with the two actions an SSE-KMS publish needs (no wildcard).
    this.notifier.role.addToPolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }));
    key.grant(this.notifier.role, 'kms:GenerateDataKey', 'kms:Decrypt');

    this.deadLetters = new DeadLetterQueue(this, 'DeadLetters', {
      alarmTopic: props.alarmTopic,
      description: 'notifier runs (digests a channel did not take)',
    });
    this.notifier.fn.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(this.deadLetters.queue),
    });
    new Rule(this, 'Schedule', {
      description: 'closeloop: send notification digests',
      schedule: Schedule.rate(props.interval ?? Duration.minutes(policy.notifications.digestIntervalMinutes)),
    }).addTarget(new LambdaFunction(this.notifier.fn, { retryAttempts: 2, deadLetterQueue: this.deadLetters.queue }));

    // A channel that refuses every digest fails every run: on-call hears of it on the first one.
    this.errors = new Alarm(this, 'Errors', {
      alarmDescription: 'closeloop: a notifier run failed (a channel did not take its digest; see the function log)',
      metric: this.notifier.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.errors.addAlarmAction(new SnsAction(props.alarmTopic));
  }
}
