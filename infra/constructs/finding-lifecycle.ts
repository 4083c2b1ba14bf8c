import { join } from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestValidator,
  RestApi,
  type IResource,
} from 'aws-cdk-lib/aws-apigateway';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DefinitionBody,
  LogLevel,
  StateMachine,
  StateMachineType,
  type IStateMachine,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DECISION_ACTIONS } from '../../connectors/api/routes';
import { acknowledgeAwsManagedPolicy, acknowledgeWildcardResources } from '../nag';
import { CloseloopFunction } from './closeloop-function';
import type { FindingsTable } from './findings-table';

/** DynamoDB actions of the lifecycle functions (read-modify-write with guarded transactions). */
export const LIFECYCLE_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:ConditionCheckItem',
];

const DEFINITION = join(__dirname, '..', '..', 'statemachines', 'finding-lifecycle.asl.json');
export interface FindingLifecycleProps {
  readonly table: FindingsTable;
  /** The remediation policy (see core/policy/policy.ts); defaults apply to what it leaves out. @default the shipped defaults */
  readonly policy?: Record<string, unknown>;
  /**
   * How often the sweep runs: it starts what ingest did not (the safety net) and fires due SLA and
   * approval escalations. @default Duration.minutes(5)
   */
  readonly startInterval?: Duration;
  /** The secret rotation machine the Remediate state starts. */
  readonly rotationStateMachine: IStateMachine;
}

/** The lifecycle state machine's name (fixed, so the rotation machine can be granted to resume it). */
export const lifecycleStateMachineName = (stack: Stack) => `${stack.stackName}-finding-lifecycle`;

/**
 * Lets an ingest function start the lifecycles of the findings it creates, right after its
 * commit: StartExecution on the lifecycle machine, named by ARN (it is created later in the stack,
 * and the ingest must not wait for the five-minute sweep), and the ARN in its environment.
 */
export function grantLifecycleStart(fn: CloseloopFunction, stateMachineName: string): void {
  const arn = Stack.of(fn).formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: stateMachineName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  fn.fn.addEnvironment('CLOSELOOP_LIFECYCLE_STATE_MACHINE', arn);
  fn.role.addToPolicy(new PolicyStatement({ actions: ['states:StartExecution'], resources: [arn] }));
}

/**
 * The finding lifecycle: the Standard state machine from statemachines/finding-lifecycle.asl.json
 * (the file the local runner executes), its step Lambda, a scheduled starter, and the
 * decisions API (approve, reject, exceptions, false positives) behind IAM authorisation.
 */
export class FindingLifecycle extends Construct {
  readonly stateMachine: StateMachine;
  readonly step: CloseloopFunction;
  readonly starter: CloseloopFunction;
  readonly decisions: CloseloopFunction;
  readonly api: RestApi;

  constructor(scope: Construct, id: string, props: FindingLifecycleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const environment = props.policy ? { CLOSELOOP_POLICY: JSON.stringify(props.policy) } : undefined;
    const lambda = (name: string, entry: string, description: string) =>
      new CloseloopFunction(this, name, {
        entry,
        description,
        table: props.table,
        tableActions: LIFECYCLE_TABLE_ACTIONS,
        ...(environment ? { environment } : {}),
      });

    this.step = lambda('Step', 'functions/lifecycle-step.ts', 'finding lifecycle step');
    const stateMachineName = lifecycleStateMachineName(stack);
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromFile(DEFINITION),
      definitionSubstitutions: {
        LifecycleStepFunctionArn: this.step.fn.functionArn,
        SecretRotationStateMachineArn: props.rotationStateMachine.stateMachineArn,
      },
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
    // Triage reads owner tags (metadata only, never a secret value).
    const taggedUsersAndRoles = [
      `arn:${stack.partition}:iam::${stack.account}:user/*`,
      `arn:${stack.partition}:iam::${stack.account}:role/*`,
    ];
    const anySecret = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.step.role.addToPolicy(
      new PolicyStatement({ actions: ['iam:ListUserTags', 'iam:ListRoleTags'], resources: taggedUsersAndRoles }),
    );
    this.step.role.addToPolicy(
      new PolicyStatement({ actions: ['secretsmanager:DescribeSecret'], resources: [anySecret] }),
    );
    acknowledgeWildcardResources(
      this.step.role,
      [...taggedUsersAndRoles, anySecret],
      'Triage reads the owner tag of whichever IAM user, role or secret a finding names (tags and metadata only; no secret values, no changes).',
    );
    // Remediate starts a rotation execution and waits for its task token.
    props.rotationStateMachine.grantStartExecution(this.stateMachine);
    // Continue-as-new starts the same machine again; named by ARN pattern to avoid a self-reference.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [
          stack.formatArn({
            service: 'states',
            resource: 'stateMachine',
            resourceName: stateMachineName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    acknowledgeStateMachineRole(this.stateMachine, this.step);

    this.starter = lambda(
      'Starter',
      'functions/lifecycle-starter.ts',
      'lifecycle sweep: start what ingest did not, fire due escalations',
    );
    this.starter.fn.addEnvironment('CLOSELOOP_LIFECYCLE_STATE_MACHINE', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(this.starter.role);
    new Rule(this, 'StartSweep', {
      description: 'closeloop: lifecycle sweep (starts what ingest did not, fires due escalations)',
      schedule: Schedule.rate(props.startInterval ?? Duration.minutes(5)),
    }).addTarget(new LambdaFunction(this.starter.fn, { retryAttempts: 2 }));

    this.decisions = lambda('Decisions', 'functions/lifecycle-decisions.ts', 'lifecycle decisions API');
    this.stateMachine.grantTaskResponse(this.decisions.role);

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = new RestApi(this, 'Api', {
      description: 'closeloop: findings, approvals, exceptions, false positives (IAM auth)',
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.INFO,
        tracingEnabled: true,
      },
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
    });
    const validator = new RequestValidator(this, 'Validator', {
      restApi: this.api,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const integration = new LambdaIntegration(this.decisions.fn);
    const findings = this.api.root.addResource('findings');
    findings.addMethod('GET', integration, {
      authorizationType: AuthorizationType.IAM,
      requestValidator: validator,
      requestParameters: { 'method.request.querystring.status': false },
    });
    const finding = findings.addResource('{id}');
    finding.addMethod('GET', integration, {
      authorizationType: AuthorizationType.IAM,
      requestValidator: validator,
      requestParameters: { 'method.request.path.id': true },
    });
    for (const action of DECISION_ACTIONS) {
      const resource = action
        .split('/')
        .reduce<IResource>((parent, part) => parent.getResource(part) ?? parent.addResource(part), finding);
      resource.addMethod('POST', integration, {
        authorizationType: AuthorizationType.IAM,
        requestValidator: validator,
        requestParameters: { 'method.request.path.id': true },
      });
    }
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'The API is IAM-authorised and only reachable with SigV4-signed requests from principals of this account; a WAF adds nothing for that audience.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'Authorisation is IAM (SigV4), so decisions are attributed to IAM principals; Cognito is not used.',
    });
    acknowledgeAwsManagedPolicy(
      this.api,
      'service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      'The account-level API Gateway logging role; AWS documents this managed policy for it and it only writes CloudWatch Logs.',
    );
  }
}

/** The acknowledgements every closeloop state machine's role needs: invoking its step Lambda, logging and X-Ray. */
export function acknowledgeStateMachineRole(stateMachine: StateMachine, step: CloseloopFunction): void {
  acknowledgeWildcardResources(
    stateMachine,
    [`${step.fn.functionArn}:*`],
    'grantInvoke covers the step Lambda\'s versions and aliases (its ARN plus ":*"); it is this one function.',
  );
  acknowledgeWildcardResources(
    stateMachine,
    ['*'],
    'Execution logging (CloudWatch Logs delivery) and X-Ray tracing actions support no resource-level permissions; "*" is the only valid resource.',
  );
}
