import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DECISION_ACTIONS } from '../connectors/api/routes';
import { parsePolicy } from '../core/policy/policy';
import { AuditDigests } from './constructs/audit-digests';
import { FindingsTable } from './constructs/findings-table';
import { acknowledgeAwsManagedPolicy } from './nag';
import { ReportIngest } from './constructs/report-ingest';
import { FindingLifecycle, lifecycleStateMachineName } from './constructs/finding-lifecycle';
import { SecretRotation, type SecretRotationSettings } from './constructs/secret-rotation';
import { Notifications } from './constructs/notifications';
import { ReportApi } from './constructs/report-api';
import { SecurityHubIngest } from './constructs/security-hub-ingest';
import { TicketSync, type TicketingSettings } from './constructs/ticket-sync';
import { SourceConnectors } from './constructs/source-connectors';
import type { SourcesSettings } from '../connectors/deploy-config';
import { PeopleApi } from './constructs/people-api';

export interface CloseloopStackProps extends StackProps {
  /** Physical name of the findings table. @default generated */
  readonly tableName?: string;
  /** The remediation policy (core/policy/policy.ts shape). @default the shipped defaults */
  readonly policy?: Record<string, unknown>;
  /** Jira / ServiceNow settings (not secrets). @default tickets stay in the hub's local tracker */
  readonly ticketing?: TicketingSettings;
  /** Managed secrets, their IAM users, and the users whose leaked keys may be contained. @default none */
  readonly rotation?: SecretRotationSettings;
  /** The scanners to pull from, take webhooks from and write back to (the deploy file's `sources`). @default Security Hub write-back only */
  readonly sources?: SourcesSettings;
}

/** The closeloop hub: system of record, ingest paths, alarms. */
export class CloseloopStack extends Stack {
  readonly findings: FindingsTable;
  readonly reportIngest: ReportIngest;
  readonly securityHubIngest: SecurityHubIngest;
  readonly lifecycle: FindingLifecycle;
  readonly rotation: SecretRotation;
  readonly reports: ReportApi;
  readonly tickets: TicketSync;
  readonly sources: SourceConnectors;
  readonly notifications: Notifications;
  /** The decisions API for people behind the enterprise IdP's JWT authorizer, when the policy names one. */
  readonly people?: PeopleApi;
  readonly alarmTopic: Topic;
  readonly deploymentKey: Secret;
  readonly auditDigests: AuditDigests;

  constructor(scope: Construct, id: string, props: CloseloopStackProps = {}) {
    super(scope, id, props);
    this.findings = new FindingsTable(this, 'Findings', props.tableName ? { tableName: props.tableName } : {});

    // The HMAC key for secret hashes. Generated once, never output.
    this.deploymentKey = new Secret(this, 'DeploymentKey', {
      description: 'closeloop deployment key: HMAC-SHA256 key that correlates leaked secrets without storing them',
      generateSecretString: {
        passwordLength: 64,
        excludePunctuation: true,
        excludeUppercase: true,
        excludeCharacters: 'ghijklmnopqrstuvwxyz',
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.deploymentKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'An HMAC correlation key, not a credential: rotating it automatically would make every stored secretHash incomparable with new reports. Re-keying is a planned procedure (README).',
    });

    const alarmKey = new Key(this, 'AlarmTopicKey', {
      enableKeyRotation: true,
      description: 'closeloop alarm topic encryption',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.alarmTopic = new Topic(this, 'Alarms', {
      displayName: 'closeloop alarms',
      masterKey: alarmKey,
      enforceSSL: true,
    });
    // CloudWatch alarms publish to the encrypted topic.
    alarmKey.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');

    this.reportIngest = new ReportIngest(this, 'ReportIngest', {
      table: this.findings,
      deploymentKey: this.deploymentKey,
      alarmTopic: this.alarmTopic,
      lifecycleStateMachineName: lifecycleStateMachineName(this),
    });
    this.securityHubIngest = new SecurityHubIngest(this, 'SecurityHubIngest', {
      table: this.findings,
      deploymentKey: this.deploymentKey,
      alarmTopic: this.alarmTopic,
      lifecycleStateMachineName: lifecycleStateMachineName(this),
    });

    this.rotation = new SecretRotation(this, 'Rotation', {
      table: this.findings,
      deploymentKey: this.deploymentKey,
      alarmTopic: this.alarmTopic,
      lifecycleStateMachineName: lifecycleStateMachineName(this),
      ...(props.policy ? { policy: props.policy } : {}),
      ...(props.rotation ? { settings: props.rotation } : {}),
    });
    this.lifecycle = new FindingLifecycle(this, 'Lifecycle', {
      table: this.findings,
      rotationStateMachine: this.rotation.stateMachine,
      ...(props.policy ? { policy: props.policy } : {}),
    });

    const policy = parsePolicy(props.policy ?? {}, 'policy');
    const oidc = policy.identity.oidc;
    if (oidc) this.people = new PeopleApi(this, 'People', { decisions: this.lifecycle.decisions.fn, oidc });

    this.reports = new ReportApi(this, 'Reports', {
      table: this.findings,
      api: this.lifecycle.api,
      alarmTopic: this.alarmTopic,
      accessLogsBucket: this.reportIngest.accessLogs,
      ...(props.policy ? { policy: props.policy } : {}),
    });

    this.tickets = new TicketSync(this, 'Tickets', {
      table: this.findings,
      alarmTopic: this.alarmTopic,
      api: this.lifecycle.api,
      stateMachine: this.lifecycle.stateMachine,
      lifecycleStep: this.lifecycle.step,
      ...(props.ticketing ? { settings: props.ticketing } : {}),
      ...(props.policy ? { policy: props.policy } : {}),
    });

    this.sources = new SourceConnectors(this, 'Sources', {
      table: this.findings,
      deploymentKey: this.deploymentKey,
      alarmTopic: this.alarmTopic,
      api: this.lifecycle.api,
      stateMachine: this.lifecycle.stateMachine,
      ...(props.policy ? { policy: props.policy } : {}),
      ...(props.sources ? { settings: props.sources } : {}),
    });

    this.notifications = new Notifications(this, 'Notifications', {
      table: this.findings,
      alarmTopic: this.alarmTopic,
      ...(props.policy ? { policy: props.policy } : {}),
    });

    const { audit } = policy;
    this.auditDigests = new AuditDigests(this, 'Audit', {
      table: this.findings,
      alarmTopic: this.alarmTopic,
      accessLogsBucket: this.reportIngest.accessLogs,
      intervalMinutes: audit.digestIntervalMinutes,
      retentionDays: audit.digestRetentionDays,
    });

    // CDK's singleton that configures the bucket notification at deploy time.
    const notificationsHandler = this.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (notificationsHandler) {
      acknowledgeAwsManagedPolicy(
        notificationsHandler,
        'service-role/AWSLambdaBasicExecutionRole',
        "CDK's bucket-notification custom resource: it runs only during deployment, and AWSLambdaBasicExecutionRole grants it nothing beyond writing its own logs.",
      );
    }

    new CfnOutput(this, 'TableName', { value: this.findings.table.tableName, description: 'CLOSELOOP_TABLE' });
    new CfnOutput(this, 'ReportBucket', {
      value: this.reportIngest.bucket.bucketName,
      description: 'upload scanner reports here',
    });
    new CfnOutput(this, 'DecisionsApi', {
      value: this.lifecycle.api.url,
      description: `POST findings/{id}/${DECISION_ACTIONS.join('|')} (SigV4)`,
    });
    if (this.people)
      new CfnOutput(this, 'PeopleApi', {
        value: this.people.url,
        description: `findings/{id}/${DECISION_ACTIONS.join('|')} with a bearer token of the identity provider`,
      });
    new CfnOutput(this, 'TicketingSecret', {
      value: this.tickets.credentials.secretArn,
      description: 'put Jira / ServiceNow credentials and webhook secrets here (JSON, see README)',
    });
    if (this.sources.credentials)
      new CfnOutput(this, 'SourcesSecret', {
        value: this.sources.credentials.secretArn,
        description: 'put the GitHub token and webhook secret and the GitGuardian API key here (JSON, see README)',
      });
    new CfnOutput(this, 'RotationFunction', {
      value: this.rotation.rotationFunction.fn.functionArn,
      description: 'set as the rotation function of secrets tagged closeloop:rotator',
    });
    new CfnOutput(this, 'AuditorRole', {
      value: this.reports.auditorRole.roleArn,
      description: 'assume to read GET /reports/{kind} and export POST /reports/{kind}/exports (and nothing else)',
    });
    new CfnOutput(this, 'NotificationTopic', {
      value: this.notifications.topic.topicArn,
      description: 'email channels: subscribe addresses with a filter policy on the "channel" attribute',
    });
    new CfnOutput(this, 'NotificationWebhooks', {
      value: this.notifications.webhooks.secretArn,
      description: 'put Slack / Teams webhook URLs here: {"<channel name>": "<URL>"} (JSON, see README)',
    });

    new CfnOutput(this, 'AuditDigestBucket', {
      value: this.auditDigests.bucket.bucketName,
      description: 'CLOSELOOP_DIGEST_BUCKET: the signed digests of the audit trail (Object Lock)',
    });
    new CfnOutput(this, 'AuditDigestKey', {
      value: this.auditDigests.key.keyArn,
      description: 'CLOSELOOP_DIGEST_KEY: the KMS key digests are signed with (verify with its public key)',
    });
    new CfnOutput(this, 'AuditVerifierRole', {
      value: this.auditDigests.verifierRole.roleArn,
      description: 'assume to run closeloop audit verify against this deployment (read-only)',
    });
    new CfnOutput(this, 'AlarmTopic', {
      value: this.alarmTopic.topicArn,
      description: 'subscribe on-call to this topic',
    });
  }
}
