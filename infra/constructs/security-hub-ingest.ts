import { Duration } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CloseloopFunction } from './closeloop-function';
import { grantLifecycleStart } from './finding-lifecycle';
import { DeadLetterQueue } from './dead-letter-queue';
import type { FindingsTable } from './findings-table';

export interface SecurityHubIngestProps {
  readonly table: FindingsTable;
  readonly deploymentKey: ISecret;
  readonly alarmTopic: ITopic;
  /** The lifecycle state machine's name: each new finding's lifecycle starts right after the ingest's commit. */
  readonly lifecycleStateMachineName: string;
}

/**
 * Security Hub findings as they are imported (incl. IAM Access Analyzer and GuardDuty), in
 * both formats: Security Hub CSPM's ASFF events and the new Security Hub's OCSF "Findings
 * Imported V2" events. EventBridge rules → Lambda; events that still fail after EventBridge's
 * retries go to a DLQ with an alarm.
 */
export class SecurityHubIngest extends Construct {
  /** "Security Hub Findings - Imported" (ASFF, Security Hub CSPM). */
  readonly rule: Rule;
  /** "Findings Imported V2" (OCSF, the new Security Hub). */
  readonly ruleV2: Rule;
  readonly function: CloseloopFunction;
  readonly deadLetters: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: SecurityHubIngestProps) {
    super(scope, id);
    this.function = new CloseloopFunction(this, 'Ingest', {
      entry: 'functions/ingest-securityhub-event.ts',
      description: 'ingest Security Hub findings imported events',
      table: props.table,
      deploymentKey: props.deploymentKey,
    });
    grantLifecycleStart(this.function, props.lifecycleStateMachineName);
    this.deadLetters = new DeadLetterQueue(this, 'DeadLetters', {
      alarmTopic: props.alarmTopic,
      description: 'Security Hub finding events',
    });
    this.rule = new Rule(this, 'FindingsImported', {
      description: 'closeloop: Security Hub findings imported',
      eventPattern: { source: ['aws.securityhub'], detailType: ['Security Hub Findings - Imported'] },
    });
    this.ruleV2 = new Rule(this, 'FindingsImportedV2', {
      description: 'closeloop: Security Hub findings imported (OCSF, Findings Imported V2)',
      eventPattern: { source: ['aws.securityhub'], detailType: ['Findings Imported V2'] },
    });
    for (const rule of [this.rule, this.ruleV2])
      rule.addTarget(
        new LambdaFunction(this.function.fn, {
          deadLetterQueue: this.deadLetters.queue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
        }),
      );
  }
}
