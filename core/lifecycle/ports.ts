import type { Finding } from '../finding/model';
import type { FindingWrite } from '../finding/ports';
import type { RemediationOutcome } from '../rotation/model';
import type { LifecycleState } from './state';

/** What the lifecycle's Remediate state hands the rotation machine. */
export interface RemediationRequest {
  findingId: string;
  generation: number;
  /** The lifecycle's state: the rotation reads an approval from its signal. */
  lifecycle: LifecycleState;
  lifecycleTaskToken: string;
}

/**
 * Automated remediation as the lifecycle sees it: run the rotation machine for a finding and
 * get its outcome. On AWS the Remediate state starts statemachines/secret-rotation.asl.json
 * itself; locally the runner calls this port (local/rotation-runner.ts).
 */
export interface RemediationPort {
  remediate(request: RemediationRequest): Promise<RemediationOutcome>;
}

/** No rotation at all: every automated remediation falls back to the owner. */
export const remediationNotConfigured: RemediationPort = {
  remediate: async () => ({ remediation: 'not_configured', reason: 'rotation not configured' }),
};

/**
 * Starts finding lifecycles where they run: Step Functions on AWS (connectors/aws), the local
 * runner in the hub (local/lifecycle-runner.ts). Which findings need a start is core's one rule
 * (core/lifecycle/start.ts); a launcher only starts what it is given. `Run` is what a start
 * reports: the local runner's path and parking place, or that an execution was started.
 */
export interface LifecycleLauncher<Run = unknown> {
  /** Starts run side by side up to this many (within the runtime's own rate limits). @default 1 */
  readonly concurrency?: number;
  /**
   * Starts the lifecycle of the finding's current generation, idempotently (another start of the
   * same generation does nothing); undefined when there was nothing to start.
   */
  start(finding: Finding): Promise<Run | undefined>;
  /** Resumes a claimed start whose runner stopped before its first wait; undefined when it has not stalled. */
  recoverStalled?(finding: Finding): Promise<Run | undefined>;
  /**
   * Where the runtime can (the local runner, whose store holds writes): commits `write`, of a
   * finding whose lifecycle needs starting, together with that start, as one write. `committed:
   * false` when the write's guard failed and nothing was applied: the caller reads the finding
   * again, as after any conflict. `problem` when it was committed and the start then failed (the
   * sweep starts it).
   */
  commitWithStart?(
    write: FindingWrite,
  ): Promise<{ committed: false } | { committed: true; run?: Run; problem?: string }>;
}
