import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AuthorizationType, LambdaIntegration, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { WEBHOOK_SYSTEMS } from '../../connectors/api/routes';
import type { TicketingSettings } from '../../connectors/deploy-config';
import { CloseloopFunction } from './closeloop-function';
import { DeadLetterQueue } from './dead-letter-queue';
import type { FindingsTable } from './findings-table';

/** DynamoDB actions of the sync: outbox, ticket records and leases, the local tracker. */
export const TICKET_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:ConditionCheckItem',
];

export interface TicketSyncProps {
  readonly table: FindingsTable;
  readonly alarmTopic: ITopic;
  /** The lifecycle's API: the webhook routes are added to it. */
  readonly api: RestApi;
  /** The lifecycle state machine (webhooks resume its waits). */
  readonly stateMachine: StateMachine;
  /** The lifecycle's step function: with ServiceNow configured, triage asks the CMDB for owners. */
  readonly lifecycleStep?: CloseloopFunction;
  /** Jira / ServiceNow variables (the deploy file's `ticketing`; no credentials). @default tickets stay in the hub's local tracker */
  readonly settings?: TicketingSettings;
  /** The remediation policy (routing rules live there). @default the shipped defaults */
  readonly policy?: Record<string, unknown>;
  /** How often pending ticket work is relayed to the sync queue. @default Duration.minutes(1) */
  readonly relayInterval?: Duration;
}

/**
 * Ticket sync: a scheduled relay turns the DynamoDB outbox into SQS messages; the sync Lambda
 * (partial batch failures, DLQ with alarm) pushes them to Jira / ServiceNow / the CMDB; the
 * webhook routes bring ticket changes back. Credentials live in one Secrets Manager secret.
 */
export class TicketSync extends Construct {
  readonly queue: Queue;
  readonly deadLetters: DeadLetterQueue;
  readonly sync: CloseloopFunction;
  readonly relay: CloseloopFunction;
  readonly webhooks: CloseloopFunction;
  readonly credentials: Secret;

  constructor(scope: Construct, id: string, props: TicketSyncProps) {
    super(scope, id);
    this.credentials = new Secret(this, 'Credentials', {
      description:
        'closeloop ticketing credentials (JSON): jiraApiToken, jiraWebhookSecret, jiraDcToken, jiraDcWebhookSecret, servicenowPassword or servicenowToken, servicenowWebhookSecret',
      generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'unused', excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.credentials).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Third-party API tokens (Jira, ServiceNow) and webhook secrets: they are rotated in those systems, which Secrets Manager cannot drive; the README gives the procedure.',
    });
    const environment = {
      CLOSELOOP_TICKETING_SECRET: this.credentials.secretArn,
      ...(props.policy ? { CLOSELOOP_POLICY: JSON.stringify(props.policy) } : {}),
      ...props.settings?.jira,
      ...props.settings?.['jira-dc'],
      ...props.settings?.servicenow,
    };

    this.deadLetters = new DeadLetterQueue(this, 'DeadLetters', {
      alarmTopic: props.alarmTopic,
      description: 'ticket sync nudges that never went through',
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.minutes(18), // six times the function timeout
      deadLetterQueue: { queue: this.deadLetters.queue, maxReceiveCount: 5 },
    });

    this.sync = new CloseloopFunction(this, 'Sync', {
      entry: 'functions/ticket-sync.ts',
      description: 'push ticket work to Jira, ServiceNow and the CMDB',
      table: props.table,
      tableActions: TICKET_TABLE_ACTIONS,
      environment,
      timeout: Duration.minutes(3),
    });
    this.credentials.grantRead(this.sync.role);
    // Batches of up to 50 findings feed one bulk create (Jira takes 50 per call).
    this.sync.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 50,
        maxBatchingWindow: Duration.seconds(10),
        reportBatchItemFailures: true,
        maxConcurrency: 2,
      }),
    );

    this.relay = new CloseloopFunction(this, 'Relay', {
      entry: 'functions/ticket-outbox-relay.ts',
      description: 'relay pending ticket work from the outbox to the sync queue',
      table: props.table,
      tableActions: ['dynamodb:Query'],
      environment: { CLOSELOOP_TICKET_QUEUE_URL: this.queue.queueUrl },
    });
    this.queue.grantSendMessages(this.relay.role);
    new Rule(this, 'RelaySchedule', {
      description: 'closeloop: relay pending ticket work',
      schedule: Schedule.rate(props.relayInterval ?? Duration.minutes(1)),
    }).addTarget(new LambdaFunction(this.relay.fn, { retryAttempts: 2 }));

    this.webhooks = new CloseloopFunction(this, 'Webhooks', {
      entry: 'functions/ticket-webhooks.ts',
      description: 'Jira and ServiceNow webhooks',
      table: props.table,
      tableActions: TICKET_TABLE_ACTIONS,
      environment,
    });
    this.credentials.grantRead(this.webhooks.role);
    props.stateMachine.grantTaskResponse(this.webhooks.role);
    if (props.lifecycleStep && props.settings?.servicenow) {
      for (const [name, value] of Object.entries({
        CLOSELOOP_TICKETING_SECRET: this.credentials.secretArn,
        ...props.settings.servicenow,
      }))
        props.lifecycleStep.fn.addEnvironment(name, value);
      this.credentials.grantRead(props.lifecycleStep.role);
    }
    const hooks = props.api.root.addResource('webhooks');
    const integration = new LambdaIntegration(this.webhooks.fn);
    for (const system of WEBHOOK_SYSTEMS)
      hooks.addResource(system).addMethod('POST', integration, { authorizationType: AuthorizationType.NONE });
    Validations.of(hooks).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Jira (Cloud and Data Center) and ServiceNow cannot sign requests with SigV4; each webhook is authenticated by an HMAC-SHA256 signature of the raw body under a shared secret, compared in constant time, and rejected with 401 otherwise.',
    });
    Validations.of(hooks).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'Webhook senders are systems authenticated by HMAC signature, not Cognito users.',
    });
  }
}

export type { TicketingSettings };
