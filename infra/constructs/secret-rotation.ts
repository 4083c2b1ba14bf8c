import { join } from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { RotationSchedule, Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RotationSettings } from '../../connectors/deploy-config';
import { FAILED_STEP_TAG, ROTATOR_TAG } from '../../core/rotation/model';
import { CloseloopFunction, INGEST_TABLE_ACTIONS } from './closeloop-function';
import { DeadLetterQueue } from './dead-letter-queue';
import { acknowledgeWildcardResources } from '../nag';
import { acknowledgeStateMachineRole, grantLifecycleStart, LIFECYCLE_TABLE_ACTIONS } from './finding-lifecycle';
import type { FindingsTable } from './findings-table';

const DEFINITION = join(__dirname, '..', '..', 'statemachines', 'secret-rotation.asl.json');
/** The prefix of secrets that hold replacement keys after a containment (see the AWS credential control). */
export const REPLACEMENT_SECRET_PREFIX = 'closeloop.replacement-key.';

/**
 * The deploy file's `rotation` section (schema: connectors/deploy-config.ts), plus what only code can set.
 * Managed secrets and IAM users: @default none. scheduleDays: @default policy rotation.scheduleDays (30).
 */
export interface SecretRotationSettings extends RotationSettings {
  /** How often the credential hygiene check runs. @default Duration.days(1) */
  readonly hygieneInterval?: Duration;
}

export interface SecretRotationProps {
  readonly table: FindingsTable;
  readonly deploymentKey: ISecret;
  readonly alarmTopic: ITopic;
  /** The finding lifecycle's state machine name: the rotation resumes its Remediate task. */
  readonly lifecycleStateMachineName: string;
  readonly policy?: Record<string, unknown>;
  readonly settings?: SecretRotationSettings;
}

/**
 * Automated rotation: the Secrets Manager rotation function (every managed secret, rotator from
 * its `closeloop:rotator` tag) with rotation schedules; the rotation state machine
 * (statemachines/secret-rotation.asl.json) a lifecycle starts to remediate a finding; the
 * EventBridge rule recording RotationSucceeded/Failed/Abandoned (via CloudTrail); and the daily
 * credential hygiene check raising NHI7/NHI1 findings. Secrets Manager permissions are scoped
 * to secrets carrying the `closeloop:rotator` tag, IAM permissions to the users named.
 */
export class SecretRotation extends Construct {
  readonly rotationFunction: CloseloopFunction;
  readonly step: CloseloopFunction;
  readonly events: CloseloopFunction;
  readonly hygiene: CloseloopFunction;
  readonly stateMachine: StateMachine;
  readonly schedules: RotationSchedule[] = [];

  constructor(scope: Construct, id: string, props: SecretRotationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const settings = props.settings ?? {};
    const policyEnv: Record<string, string> = props.policy ? { CLOSELOOP_POLICY: JSON.stringify(props.policy) } : {};
    const anySecret = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const managedOnly = { StringLike: { [`aws:ResourceTag/${ROTATOR_TAG}`]: '*' } };
    const managedUsers = settings.managedIamUserArns ?? [];
    const containmentUsers = settings.containmentIamUserArns ?? [];
    const fn = (
      name: string,
      entry: string,
      description: string,
      tableActions: string[],
      extra: { timeout?: Duration; environment?: Record<string, string> } = {},
    ) =>
      new CloseloopFunction(this, name, {
        entry,
        description,
        table: props.table,
        deploymentKey: props.deploymentKey,
        tableActions,
        environment: { ...policyEnv, ...extra.environment },
        ...(extra.timeout ? { timeout: extra.timeout } : {}),
      });

    // The Secrets Manager rotation function: createSecret, setSecret, testSecret, finishSecret.
    this.rotationFunction = fn(
      'RotationFunction',
      'functions/secret-rotation.ts',
      'Secrets Manager rotation function (IAM access keys, generated credentials)',
      [],
      { timeout: Duration.minutes(2) },
    );
    this.rotationFunction.role.addToPolicy(
      new PolicyStatement({
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        resources: [anySecret],
        conditions: managedOnly,
      }),
    );
    this.rotationFunction.role.addToPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:TagResource', 'secretsmanager:UntagResource'],
        resources: [anySecret],
        conditions: { ...managedOnly, 'ForAllValues:StringEquals': { 'aws:TagKeys': [FAILED_STEP_TAG] } },
      }),
    );
    this.rotationFunction.role.addToPolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] }),
    );
    if (managedUsers.length > 0) {
      this.rotationFunction.role.addToPolicy(
        new PolicyStatement({
          actions: ['iam:ListAccessKeys', 'iam:CreateAccessKey', 'iam:DeleteAccessKey', 'iam:GetAccessKeyLastUsed'],
          resources: managedUsers,
        }),
      );
    }

    const days =
      settings.scheduleDays ??
      Number((props.policy?.rotation as { scheduleDays?: number } | undefined)?.scheduleDays ?? 30);
    (settings.managedSecretArns ?? []).forEach((arn, i) => {
      const secret = Secret.fromSecretCompleteArn(this, `Managed${i}`, arn);
      this.schedules.push(
        new RotationSchedule(this, `Schedule${i}`, {
          secret,
          rotationLambda: this.rotationFunction.fn,
          automaticallyAfter: Duration.days(days),
        }),
      );
    });

    // The rotation state machine's steps.
    this.step = fn('Step', 'functions/rotation-step.ts', 'secret rotation machine step', LIFECYCLE_TABLE_ACTIONS);
    const stepRole = this.step.role;
    stepRole.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:ListSecrets'], resources: ['*'] }));
    stepRole.addToPolicy(
      new PolicyStatement({
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:RotateSecret',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        resources: [anySecret],
        conditions: managedOnly,
      }),
    );
    const replacementSecrets = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${REPLACEMENT_SECRET_PREFIX}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    stepRole.addToPolicy(
      new PolicyStatement({ actions: ['secretsmanager:DescribeSecret'], resources: [replacementSecrets] }),
    );
    stepRole.addToPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
        resources: [replacementSecrets],
        conditions: { StringEquals: { [`aws:RequestTag/${ROTATOR_TAG}`]: 'iam_access_key' } },
      }),
    );
    if (managedUsers.length + containmentUsers.length > 0) {
      stepRole.addToPolicy(
        new PolicyStatement({
          actions: ['iam:ListAccessKeys', 'iam:UpdateAccessKey', 'iam:DeleteAccessKey'],
          resources: [...managedUsers, ...containmentUsers],
        }),
      );
    }
    const containment = (props.policy?.rotation as { containment?: string } | undefined)?.containment;
    if (containment === 'quarantine' && managedUsers.length > 0) {
      // Containment of a leaked managed key by AWS's quarantine policy: that one policy only, on those users only.
      const quarantine = `arn:${stack.partition}:iam::aws:policy/AWSCompromisedKeyQuarantineV3`;
      stepRole.addToPolicy(
        new PolicyStatement({
          actions: ['iam:AttachUserPolicy', 'iam:DetachUserPolicy'],
          resources: managedUsers,
          conditions: { ArnEquals: { 'iam:PolicyARN': quarantine } },
        }),
      );
      stepRole.addToPolicy(new PolicyStatement({ actions: ['iam:ListAttachedUserPolicies'], resources: managedUsers }));
    }
    if (containmentUsers.length > 0) {
      stepRole.addToPolicy(new PolicyStatement({ actions: ['iam:ListUsers'], resources: ['*'] }));
      stepRole.addToPolicy(new PolicyStatement({ actions: ['iam:CreateAccessKey'], resources: containmentUsers }));
    }

    const machineName = `${stack.stackName}-secret-rotation`;
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: machineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromFile(DEFINITION),
      definitionSubstitutions: { RotationStepFunctionArn: this.step.fn.functionArn },
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'ExecutionLogs', {
          retention: RetentionDays.ONE_YEAR,
          removalPolicy: RemovalPolicy.RETAIN,
        }),
        level: LogLevel.ALL,
        includeExecutionData: true,
      },
    });
    this.step.fn.grantInvoke(this.stateMachine);
    // Resumes the lifecycle's Remediate task; named by ARN pattern (the lifecycle references this machine).
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: [
          stack.formatArn({
            service: 'states',
            resource: 'stateMachine',
            resourceName: props.lifecycleStateMachineName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    acknowledgeStateMachineRole(this.stateMachine, this.step);
    const failed = new Alarm(this, 'RotationExecutionsFailed', {
      alarmDescription: 'closeloop: a secret rotation execution failed (e.g. a rotated-out key could not be deleted)',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    failed.addAlarmAction(new SnsAction(props.alarmTopic));

    // Secrets Manager rotation events (CloudTrail) → managed-secret records; retire rotated-out keys.
    this.events = fn(
      'Events',
      'functions/rotation-events.ts',
      'record Secrets Manager rotation events',
      LIFECYCLE_TABLE_ACTIONS,
      { environment: { CLOSELOOP_ROTATION_STATE_MACHINE: this.stateMachine.stateMachineArn } },
    );
    this.events.role.addToPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:DescribeSecret'],
        resources: [anySecret],
        conditions: managedOnly,
      }),
    );
    this.stateMachine.grantStartExecution(this.events.role);
    const eventDeadLetters = new DeadLetterQueue(this, 'EventDeadLetters', {
      alarmTopic: props.alarmTopic,
      description: 'Secrets Manager rotation events',
    });
    new Rule(this, 'RotationEvents', {
      description: 'closeloop: Secrets Manager RotationSucceeded / RotationFailed / RotationAbandoned (via CloudTrail)',
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS Service Event via CloudTrail'],
        detail: { eventName: ['RotationSucceeded', 'RotationFailed', 'RotationAbandoned'] },
      },
    }).addTarget(
      new LambdaFunction(this.events.fn, {
        deadLetterQueue: eventDeadLetters.queue,
        retryAttempts: 8,
        maxEventAge: Duration.hours(6),
      }),
    );

    // Daily credential hygiene: NHI7 (not rotated within policy) and NHI1 (unused) findings.
    this.hygiene = fn(
      'Hygiene',
      'functions/credential-hygiene.ts',
      'raise NHI7/NHI1 findings from the credential inventory',
      INGEST_TABLE_ACTIONS,
      { timeout: Duration.minutes(5) },
    );
    this.hygiene.role.addToPolicy(
      new PolicyStatement({ actions: ['secretsmanager:ListSecrets', 'iam:ListUsers'], resources: ['*'] }),
    );
    const everyUser = `arn:${stack.partition}:iam::${stack.account}:user/*`;
    this.hygiene.role.addToPolicy(
      new PolicyStatement({ actions: ['iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed'], resources: [everyUser] }),
    );
    // New hygiene findings' lifecycles start right after its commit; the ones it no longer reports
    // resume their owner-fix wait (as a clean re-scan would).
    grantLifecycleStart(this.hygiene, props.lifecycleStateMachineName);
    this.hygiene.role.addToPolicy(
      new PolicyStatement({
        actions: ['states:SendTaskSuccess'],
        resources: [
          stack.formatArn({
            service: 'states',
            resource: 'stateMachine',
            resourceName: props.lifecycleStateMachineName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    new Rule(this, 'HygieneSchedule', {
      description: 'closeloop: credential hygiene (NHI7, NHI1)',
      schedule: Schedule.rate(settings.hygieneInterval ?? Duration.days(1)),
    }).addTarget(new LambdaFunction(this.hygiene.fn, { retryAttempts: 2 }));

    for (const f of [this.rotationFunction, this.step, this.hygiene]) {
      acknowledgeWildcardResources(
        f.role,
        ['*'],
        'X-Ray PutTraceSegments/PutTelemetryRecords, secretsmanager:ListSecrets and GetRandomPassword, and iam:ListUsers support no resource-level permissions; "*" is the only valid resource.',
      );
    }
    // User paths the operator configured with a wildcard (e.g. user/legacy/*) are their decision.
    for (const [role, arns] of [
      [this.rotationFunction.role, managedUsers],
      [stepRole, [...managedUsers, ...containmentUsers]],
    ] as const) {
      for (const arn of new Set(arns.filter((a) => a.includes('*'))))
        acknowledgeWildcardResources(
          role,
          [arn],
          `IAM user path configured by the operator in the stack's rotation settings (${arn}).`,
        );
    }
    acknowledgeWildcardResources(
      stepRole,
      [replacementSecrets],
      `Replacement-key secrets are created by containment with generated names under ${REPLACEMENT_SECRET_PREFIX}; creating one also requires the request tag ${ROTATOR_TAG}=iam_access_key.`,
    );
    acknowledgeWildcardResources(
      this.hygiene.role,
      [everyUser],
      "The hygiene check reads (never changes) every IAM user's key list and last use: finding unused and old keys anywhere in the account is its purpose.",
    );
    for (const f of [this.rotationFunction, this.step, this.events]) {
      acknowledgeWildcardResources(
        f.role,
        [anySecret],
        `Scoped by the condition aws:ResourceTag/${ROTATOR_TAG}: only secrets tagged as closeloop-managed. Secret ARNs end in a random suffix, so tags, not names, identify them.`,
      );
    }
  }
}
