import {
  ExecutionAlreadyExists,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { updateFinding } from '@core/finding/update';
import type { FindingStore } from '@core/finding/ports';
import type { LifecycleSignaller } from '@core/lifecycle/decisions';
import type { LifecycleLauncher } from '@core/lifecycle/ports';
import type { RetirementLauncher } from '@core/rotation/ports';
import { executionName } from '@core/lifecycle/state';
import { CloseloopError } from '@core/shared/errors';
import type { Clock } from '@core/shared/clock';

/** Resumes the Step Functions wait with the task token the waiting step stored. */
export function sfnSignaller(sfn: SFNClient): LifecycleSignaller {
  return {
    signal: async (finding, _resumeAt, signal) => {
      const token = finding.lifecycle?.taskToken;
      if (!token)
        throw new CloseloopError(`${finding.id} has no task token for its wait; the lifecycle cannot be resumed`);
      await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(signal) }));
      return `${finding.id}: resumed`;
    },
  };
}

/** StartExecution, idempotent by name: `false` when an execution of that name exists already. */
export async function startExecution(
  sfn: SFNClient,
  input: { stateMachineArn: string; name: string; input: unknown },
): Promise<boolean> {
  try {
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: input.stateMachineArn,
        name: input.name,
        input: JSON.stringify(input.input),
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ExecutionAlreadyExists || (err as Error).name === 'ExecutionAlreadyExists') return false;
    throw err;
  }
}

/**
 * Step Functions' StartExecution quota for standard workflows: a token bucket of 800 refilled at 150
 * per second in most Regions (1,300 and 300/s in the largest ones). closeloop keeps within the
 * smaller one per process; what is throttled beyond the SDK's retries is left for the sweep.
 */
export const START_EXECUTION_RATE = { burst: 800, perSecond: 150 } as const;

/** A token bucket: `take()` resolves when a call may go. */
export function tokenBucket(rate: { burst: number; perSecond: number }, now: () => number = Date.now) {
  let tokens = rate.burst;
  let last = now();
  return async function take(): Promise<void> {
    for (;;) {
      const t = now();
      tokens = Math.min(rate.burst, tokens + ((t - last) / 1000) * rate.perSecond);
      last = t;
      if (tokens >= 1) {
        tokens -= 1;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - tokens) / rate.perSecond) * 1000)));
    }
  };
}

/**
 * Finding lifecycles as Step Functions executions. StartExecution comes first and is idempotent
 * by name (finding id + generation); the mark (`lifecycle.started`) comes second. A crash in
 * between only means the next start meets ExecutionAlreadyExists and marks it then. Starts run
 * 16 at a time, within StartExecution's rate.
 */
export function stepFunctionsLauncher(deps: {
  sfn: SFNClient;
  stateMachineArn: string;
  store: FindingStore;
  clock: Clock;
  rate?: { burst: number; perSecond: number };
}): LifecycleLauncher<'started'> {
  const take = tokenBucket(deps.rate ?? START_EXECUTION_RATE);
  return {
    concurrency: 16,
    async start(finding) {
      await take();
      const started = await startExecution(deps.sfn, {
        stateMachineArn: deps.stateMachineArn,
        name: executionName(finding.id, finding.generation),
        input: { findingId: finding.id, generation: finding.generation, resumeAt: 'triage' },
      });
      await updateFinding(deps.store, deps.clock, finding.id, (f) =>
        (f.lifecycle?.startedGeneration ?? 0) >= f.generation
          ? undefined
          : {
              finding: { ...f, lifecycle: { startedGeneration: f.generation } },
              events: [
                { actor: 'closeloop:lifecycle', action: 'lifecycle.started', reason: `generation ${f.generation}` },
              ],
            },
      );
      return started ? 'started' : undefined;
    },
  };
}

/** The rotation machine's `retire` executions (after a scheduled rotation of an IAM-key secret). */
export function stepFunctionsRetirements(sfn: SFNClient, stateMachineArn: string): RetirementLauncher {
  return {
    async retire(state, name) {
      await startExecution(sfn, { stateMachineArn, name, input: state });
    },
  };
}
