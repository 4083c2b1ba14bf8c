import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AuthorizationType, LambdaIntegration, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { githubPullScopes, type SourcesSettings } from '../../connectors/deploy-config';
import { CloseloopFunction, INGEST_TABLE_ACTIONS } from './closeloop-function';
import { DeadLetterQueue } from './dead-letter-queue';
import type { FindingsTable } from './findings-table';
import { TICKET_TABLE_ACTIONS } from './ticket-sync';

/** DynamoDB actions of the write-back: its outbox, and the audit event of each record told. */
export const WRITEBACK_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:ConditionCheckItem',
];

/** Finding fields closeloop never changes in Security Hub: denied, so its role can set only the workflow and a note. */
const SECURITY_HUB_FIELDS_NOT_WRITTEN = [
  'securityhub:ASFFSyntaxPath/Confidence',
  'securityhub:ASFFSyntaxPath/Criticality',
  'securityhub:ASFFSyntaxPath/RelatedFindings',
  'securityhub:ASFFSyntaxPath/Severity.Label',
  'securityhub:ASFFSyntaxPath/Severity.Normalized',
  'securityhub:ASFFSyntaxPath/Severity.Product',
  'securityhub:ASFFSyntaxPath/Types',
  'securityhub:ASFFSyntaxPath/UserDefinedFields',
  'securityhub:ASFFSyntaxPath/VerificationState',
  'securityhub:OCSFSyntaxPath/SeverityId',
];

export interface SourceConnectorsProps {
  readonly table: FindingsTable;
  readonly deploymentKey: ISecret;
  readonly alarmTopic: ITopic;
  /** The hub's API: `POST /webhooks/github` is added to it. */
  readonly api: RestApi;
  /** The lifecycle state machine: a revocation at the source resumes a finding's owner-fix wait. */
  readonly stateMachine: StateMachine;
  /** The remediation policy (its `writeBack` switches). @default the shipped defaults */
  readonly policy?: Record<string, unknown>;
  /** The deploy file's `sources`. @default none: only the Security Hub write-back */
  readonly settings?: SourcesSettings;
  /** How often pending write-back is sent. @default Duration.minutes(1) */
  readonly writebackInterval?: Duration;
}

/**
 * The scanners, both ways. Always: the write-back Lambda (every minute) that tells Security Hub,
 * and the configured GitHub and GitGuardian, what became of their findings; failures stay in the
 * outbox and, when they keep failing, end in its dead-letter queue's alarm. With the deploy file's
 * `sources`: the credentials secret, a scheduled pull per scanner (GitHub for each organisation and
 * repository; each its own dead-letter queue and alarm), and `POST /webhooks/github`. Without
 * `sources`, none of those are deployed.
 */
export class SourceConnectors extends Construct {
  readonly writeback: CloseloopFunction;
  readonly credentials?: Secret;
  readonly githubPull?: CloseloopFunction;
  readonly gitguardianPull?: CloseloopFunction;
  readonly githubWebhook?: CloseloopFunction;

  constructor(scope: Construct, id: string, props: SourceConnectorsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const github = props.settings?.github;
    const gitguardian = props.settings?.gitguardian;
    const configured = [...(github ? ['github'] : []), ...(gitguardian ? ['gitguardian'] : [])];
    const policyEnv: Record<string, string> = props.policy ? { CLOSELOOP_POLICY: JSON.stringify(props.policy) } : {};
    const apiEnv: Record<string, string> = {
      ...(github?.apiUrl ? { GITHUB_API_URL: github.apiUrl } : {}),
      ...(gitguardian?.apiUrl ? { GITGUARDIAN_API_URL: gitguardian.apiUrl } : {}),
    };

    if (configured.length > 0) {
      this.credentials = new Secret(this, 'Credentials', {
        description:
          'closeloop scanner credentials (JSON): githubToken, githubWebhookSecret (16+ characters), gitguardianApiKey',
        generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'unused', excludePunctuation: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(this.credentials).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'A GitHub token, a GitGuardian API key and a webhook secret: they are issued and rotated in GitHub and GitGuardian, which Secrets Manager cannot drive; the README gives the procedure.',
      });
    }
    const credentialsEnv: Record<string, string> = this.credentials
      ? { CLOSELOOP_SOURCES_SECRET: this.credentials.secretArn }
      : {};

    // The write-back: every deployment has Security Hub.
    this.writeback = new CloseloopFunction(this, 'Writeback', {
      entry: 'functions/source-writeback.ts',
      description: 'write outcomes back to GitHub, GitGuardian and Security Hub',
      table: props.table,
      tableActions: WRITEBACK_TABLE_ACTIONS,
      environment: {
        ...policyEnv,
        ...apiEnv,
        ...credentialsEnv,
        ...(configured.length > 0 ? { CLOSELOOP_SOURCES: configured.join(',') } : {}),
      },
      timeout: Duration.minutes(2),
    });
    this.credentials?.grantRead(this.writeback.role);
    const hub = stack.formatArn({ service: 'securityhub', resource: 'hub', resourceName: 'default' });
    // BatchUpdateFindings and BatchUpdateFindingsV2 are both securityhub:BatchUpdateFindings.
    this.writeback.role.addToPolicy(
      new PolicyStatement({ actions: ['securityhub:BatchUpdateFindings'], resources: [hub] }),
    );
    for (const field of SECURITY_HUB_FIELDS_NOT_WRITTEN)
      this.writeback.role.addToPolicy(
        new PolicyStatement({
          effect: Effect.DENY,
          actions: ['securityhub:BatchUpdateFindings'],
          resources: [hub],
          conditions: { Null: { [field]: 'false' } },
        }),
      );
    this.scheduled(this.writeback, 'Writeback', 'write-back to the scanners', props, {
      schedule: Schedule.rate(props.writebackInterval ?? Duration.minutes(1)),
      retryAttempts: 2,
    });

    const scopes = github ? githubPullScopes(github) : [];
    if (github && scopes.length > 0) {
      this.githubPull = this.pull(
        'GithubPull',
        'functions/github-pull.ts',
        'pull GitHub secret scanning alerts',
        props,
        {
          ...policyEnv,
          ...apiEnv,
          ...credentialsEnv,
          CLOSELOOP_GITHUB_SCOPES: scopes.join(','),
        },
      );
      this.scheduled(this.githubPull, 'GithubPull', 'GitHub secret scanning pull', props, {
        schedule: Schedule.rate(Duration.minutes(github.scheduleMinutes ?? 60)),
        retryAttempts: 1,
      });
    }
    if (gitguardian) {
      this.gitguardianPull = this.pull(
        'GitguardianPull',
        'functions/gitguardian-pull.ts',
        'pull GitGuardian secret incidents',
        props,
        { ...policyEnv, ...apiEnv, ...credentialsEnv },
      );
      this.scheduled(this.gitguardianPull, 'GitguardianPull', 'GitGuardian incidents pull', props, {
        schedule: Schedule.rate(Duration.minutes(gitguardian.scheduleMinutes ?? 60)),
        retryAttempts: 1,
      });
    }

    if (github) {
      this.githubWebhook = new CloseloopFunction(this, 'GithubWebhook', {
        entry: 'functions/github-webhook.ts',
        description: 'GitHub secret scanning webhook',
        table: props.table,
        deploymentKey: props.deploymentKey,
        tableActions: [...new Set([...INGEST_TABLE_ACTIONS, ...TICKET_TABLE_ACTIONS])],
        environment: { ...policyEnv, ...credentialsEnv },
      });
      this.credentials!.grantRead(this.githubWebhook.role);
      this.startsLifecycles(this.githubWebhook, props);
      const hooks = props.api.root.getResource('webhooks') ?? props.api.root.addResource('webhooks');
      const resource = hooks.addResource('github');
      resource.addMethod('POST', new LambdaIntegration(this.githubWebhook.fn), {
        authorizationType: AuthorizationType.NONE,
      });
      Validations.of(resource).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'GitHub cannot sign requests with SigV4; each delivery is authenticated by its X-Hub-Signature-256 (HMAC-SHA256 of the raw body under the shared secret), compared in constant time, and rejected with 401 otherwise.',
      });
      Validations.of(resource).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: 'The webhook sender is GitHub, authenticated by HMAC signature, not a Cognito user.',
      });
    }
  }

  /** A scheduled pull: the ingest path's table access and the deployment key, 15 minutes, resuming the lifecycle. */
  private pull(
    id: string,
    entry: string,
    description: string,
    props: SourceConnectorsProps,
    environment: Record<string, string>,
  ): CloseloopFunction {
    const fn = new CloseloopFunction(this, id, {
      entry,
      description,
      table: props.table,
      deploymentKey: props.deploymentKey,
      environment,
      timeout: Duration.minutes(15),
      memorySize: 1024,
    });
    this.credentials!.grantRead(fn.role);
    this.startsLifecycles(fn, props);
    return fn;
  }

  /** Starts each new finding's lifecycle right after its commit, and resumes waiting ones (revocations, reopenings). */
  private startsLifecycles(fn: CloseloopFunction, props: SourceConnectorsProps): void {
    fn.fn.addEnvironment('CLOSELOOP_LIFECYCLE_STATE_MACHINE', props.stateMachine.stateMachineArn);
    props.stateMachine.grantStartExecution(fn.role);
    props.stateMachine.grantTaskResponse(fn.role);
  }

  /** An EventBridge schedule; a run that fails after Lambda's retries goes to its own dead-letter queue and alarm. */
  private scheduled(
    fn: CloseloopFunction,
    id: string,
    what: string,
    props: SourceConnectorsProps,
    options: { schedule: Schedule; retryAttempts: number },
  ): void {
    const deadLetters = new DeadLetterQueue(this, `${id}DeadLetters`, {
      alarmTopic: props.alarmTopic,
      description: `${what} runs`,
    });
    fn.fn.configureAsyncInvoke({
      retryAttempts: options.retryAttempts,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(deadLetters.queue),
    });
    new Rule(this, `${id}Schedule`, { description: `closeloop: ${what}`, schedule: options.schedule }).addTarget(
      new LambdaFunction(fn.fn, { deadLetterQueue: deadLetters.queue, retryAttempts: 2 }),
    );
  }
}
