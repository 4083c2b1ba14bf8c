import { CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { AuthorizationType, LambdaIntegration, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import { AccountRootPrincipal, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CloseloopFunction } from './closeloop-function';
import type { FindingsTable } from './findings-table';

/** The report function reads; it never writes. */
export const REPORT_TABLE_ACTIONS = ['dynamodb:Query', 'dynamodb:GetItem'];

export interface ReportApiProps {
  readonly table: FindingsTable;
  /** The hub's API: `GET /reports/{kind}` is added to it, behind IAM authorisation. */
  readonly api: RestApi;
  readonly policy?: Record<string, unknown>;
}

/**
 * The report API: `GET /reports/{kind}` (sla, ownership, exceptions, rotation, standards, audit)
 * computed by the same code as `closeloop report`, and the **auditor role**, which may call
 * those routes and nothing else (no decisions, no ingest, no table access).
 */
export class ReportApi extends Construct {
  readonly function: CloseloopFunction;
  readonly auditorRole: Role;

  constructor(scope: Construct, id: string, props: ReportApiProps) {
    super(scope, id);
    this.function = new CloseloopFunction(this, 'Reports', {
      entry: 'functions/report-api-lambda.ts',
      description: 'auditor reports API',
      table: props.table,
      tableActions: REPORT_TABLE_ACTIONS,
      // API Gateway answers within 29 s; the function may not run longer.
      timeout: Duration.seconds(29),
      memorySize: 1024,
      ...(props.policy ? { environment: { CLOSELOOP_POLICY: JSON.stringify(props.policy) } } : {}),
    });
    const reports = props.api.root.addResource('reports').addResource('{kind}');
    reports.addMethod('GET', new LambdaIntegration(this.function.fn), {
      authorizationType: AuthorizationType.IAM,
      requestParameters: Object.fromEntries([['method.request.path.kind', true], ...['format', 'since', 'owner', 'finding', 'actor', 'validAfterDays', 'limit', 'cursor'].map((q) => [`method.request.querystring.${q}`, false])]),
    });

    this.auditorRole = new Role(this, 'AuditorRole', {
      assumedBy: new AccountRootPrincipal(),
      description: 'closeloop auditor: read the reports (GET /reports/*), nothing else',
      maxSessionDuration: Duration.hours(1),
    });
    const readReports = props.api.arnForExecuteApi('GET', '/reports/*', props.api.deploymentStage.stageName);
    this.auditorRole.addToPolicy(new PolicyStatement({ actions: ['execute-api:Invoke'], resources: [readReports] }));
    const apiLogicalId = Stack.of(this).getLogicalId(props.api.node.defaultChild as CfnElement);
    const stageLogicalId = Stack.of(this).getLogicalId(props.api.deploymentStage.node.defaultChild as CfnElement);
    Validations.of(this.auditorRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/<${stageLogicalId}>/GET/reports/*]`,
      reason: 'Exactly the GET /reports/{kind} routes of this API: "*" stands for the report kind.',
    });
  }
}
