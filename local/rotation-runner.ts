import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import type { RemediationPort, RemediationRequest } from '@core/lifecycle/ports';
import {
  RemediationOutcomeSchema,
  RotationStateSchema,
  type RemediationOutcome,
  type RotationState,
  type RotationStepName,
} from '@core/rotation/model';
import { runRotationStep, type RotationDeps } from '@core/rotation/steps';
import type { AslDefinition } from './lifecycle-definition';
import { recordStatesEntered } from './lifecycle-runner';
import { WriteBehindFindingStore } from '@core/finding/write-behind';

/**
 * Rotation steps that read (the finding, the managed secrets, AWS descriptions) and write only the
 * store: inside a held lifecycle start they need no barrier. Every other step may act on AWS.
 */
const STORE_ONLY_STEPS: ReadonlySet<RotationStepName> = new Set(['plan', 'record_failure']);

/** The one rotation definition, deployed by CDK and run here. */
export const ROTATION_DEFINITION_PATH = join(__dirname, '..', 'statemachines', 'secret-rotation.asl.json');

export function readRotationDefinition(): AslDefinition {
  return JSON.parse(readFileSync(ROTATION_DEFINITION_PATH, 'utf8')) as AslDefinition;
}

export interface LocalRotationRun {
  outcome: RemediationOutcome;
  /** States entered, in order. */
  path: string[];
}

/**
 * Runs statemachines/secret-rotation.asl.json locally in aws-local-stepfunctions, every Task
 * bound to the same `runRotationStep` the rotation-step Lambda runs. Locally the grace period
 * and the deletion delay are not waited (the old key is deactivated, then deleted, at once);
 * polling waits 1 s against AWS endpoints and not at all in the dry run.
 */
export class LocalRotationRunner implements RemediationPort {
  private readonly definition = readRotationDefinition();

  constructor(private readonly deps: RotationDeps) {
    // Validated once here: validating (compiling the ASL schema) on every run was most of a run's CPU.
    new StateMachine(this.definition as never);
  }

  async remediate(request: RemediationRequest): Promise<RemediationOutcome> {
    return (await this.run(request)).outcome;
  }

  /** Runs one execution: a finding's remediation (a RemediationRequest) or a `retire` after a scheduled rotation. */
  async run(request: RemediationRequest | RotationState): Promise<LocalRotationRun> {
    const input = RotationStateSchema.parse(request);
    let sent: RemediationOutcome | undefined;
    const steps = Object.entries(this.definition.States).filter(
      ([, s]) => s.Type === 'Task' && s.Resource === 'arn:aws:states:::lambda:invoke',
    );
    const handlers = Object.fromEntries(
      steps.map(([name]) => [
        name,
        async (parameters: { Payload: { step: RotationStepName; state: unknown } }) => {
          // A step that may act outside the store commits what a held lifecycle start holds first.
          if (!STORE_ONLY_STEPS.has(parameters.Payload.step) && this.deps.store instanceof WriteBehindFindingStore)
            await this.deps.store.barrier();
          return {
            Payload: await runRotationStep(
              parameters.Payload.step,
              RotationStateSchema.parse(parameters.Payload.state),
              this.deps,
            ),
          };
        },
      ]),
    );
    const machine = new StateMachine(this.definition as never, { validationOptions: { noValidate: true } });
    const execution = machine.run(input as never, {
      context: { StateMachine: { Id: 'local:secret-rotation' } },
      overrides: {
        taskResourceLocalHandlers: {
          ...handlers,
          SendOutcome: (async (parameters: { Output: string }) => {
            sent = RemediationOutcomeSchema.parse(JSON.parse(parameters.Output));
            return {};
          }) as never,
        },
        waitTimeOverrides: {
          WaitForRotation: this.deps.control.simulated ? 0 : 1000,
          GracePeriod: 0,
          DeletionDelay: 0,
        },
        retryIntervalOverrides: Object.fromEntries(steps.map(([name]) => [name, 0])),
      },
    });
    const path: string[] = [];
    const logs = recordStatesEntered(execution.eventLogs, path);
    const failure = await execution.result.then(
      () => undefined,
      (err: Error) => err,
    );
    await logs;
    const outcome = sent ?? {
      remediation: 'failed' as const,
      reason: `the rotation execution ended without an outcome${failure ? `: ${failure.message}` : ''}`,
      failedStep: path[path.length - 1] ?? 'unknown',
    };
    return { outcome, path };
  }
}
