import type { Finding, FindingStatus } from '../finding/model';
import type { FindingStore } from '../finding/ports';
import type { LifecycleLauncher } from './ports';

/** Whether the finding's current generation has no lifecycle yet: new findings and reopened ones. */
export const needsLifecycle = (finding: Finding): boolean =>
  (finding.lifecycle?.startedGeneration ?? 0) < finding.generation;

/**
 * The statuses a sweep reads, by runtime: the one place the start rule lives. The two runtimes
 * still differ, as they did before the rule moved here (issue 16 decides the final rule):
 * - Step Functions (the scheduled starter Lambda) reads `open` and `reopened` findings and starts
 *   those whose generation has no lifecycle. A started execution is Step Functions' to keep.
 * - The local runner also reads `remediating` and `verifying`, because a local lifecycle can stop
 *   with its hub (a killed terminal) after its start and before its first wait; those it resumes
 *   (`recoverStalled`) at the phase boundary they had reached.
 */
export const SWEEP_STATUSES: Readonly<Record<LifecycleLauncher['runtime'], readonly FindingStatus[]>> = {
  step_functions: ['open', 'reopened'],
  local_runner: ['open', 'reopened', 'remediating', 'verifying'],
};

export interface Launched<Run> {
  id: string;
  run: Run;
}

/**
 * Starts the lifecycles these findings need (new or reopened generations), in order; with
 * `recover`, also resumes stalled ones the launcher can resume. What the ingest path calls after
 * its commit, and what the sweep calls on what it reads.
 */
export async function startLifecycles<Run>(
  launcher: LifecycleLauncher<Run>,
  findings: Iterable<Finding>,
  options: { recover?: boolean } = {},
): Promise<Array<Launched<Run>>> {
  const launched: Array<Launched<Run>> = [];
  for (const finding of findings) {
    const run = needsLifecycle(finding)
      ? await launcher.start(finding)
      : options.recover
        ? await launcher.recoverStalled?.(finding)
        : undefined;
    if (run !== undefined) launched.push({ id: finding.id, run });
  }
  return launched;
}

/**
 * The sweep: every finding its runtime's rule names (SWEEP_STATUSES) whose lifecycle has not
 * started, started; locally, stalled ones resumed. Idempotent, and the safety net under
 * whatever else starts lifecycles.
 */
export async function sweepLifecycles<Run>(
  store: Pick<FindingStore, 'list'>,
  launcher: LifecycleLauncher<Run>,
): Promise<Array<Launched<Run>>> {
  const launched: Array<Launched<Run>> = [];
  for (const status of SWEEP_STATUSES[launcher.runtime]) {
    launched.push(...(await startLifecycles(launcher, await store.list({ status }), { recover: true })));
  }
  return launched;
}
