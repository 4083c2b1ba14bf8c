import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { updateFinding } from '@core/finding/update';
import { executionName } from '@core/lifecycle/state';
import type { FindingStore } from '@core/finding/ports';
import type { Clock } from '@core/shared/clock';
import { lifecycleRuntime } from './shared/lifecycle-runtime';
import { logger, requiredEnv } from './shared/runtime';

const runtime = lifecycleRuntime();
const stateMachineArn = requiredEnv('CLOSELOOP_LIFECYCLE_STATE_MACHINE');

/**
 * Starts the lifecycle of every open or reopened finding whose current generation has none.
 * StartExecution comes first and is idempotent by name (finding id + generation); the mark
 * comes second. A crash in between only means the next sweep meets ExecutionAlreadyExists.
 */
export async function startPending(deps: { store: FindingStore; clock: Clock; sfn: SFNClient }, arn: string) {
  let started = 0;
  for (const status of ['open', 'reopened'] as const) {
    for (const finding of await deps.store.list({ status })) {
      if ((finding.lifecycle?.startedGeneration ?? 0) >= finding.generation) continue;
      try {
        await deps.sfn.send(
          new StartExecutionCommand({
            stateMachineArn: arn,
            name: executionName(finding.id, finding.generation),
            input: JSON.stringify({ findingId: finding.id, generation: finding.generation, resumeAt: 'triage' }),
          }),
        );
        started++;
      } catch (err) {
        if (!(err instanceof ExecutionAlreadyExists)) throw err;
      }
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
    }
  }
  return { started };
}

/** Scheduled sweep (EventBridge); also the catch-up that makes a lost start impossible. */
export const handler = async () => {
  const result = await startPending(runtime, stateMachineArn);
  logger.info('lifecycle sweep', result);
  return result;
};
