import { isOpenWork, type Finding } from '../finding/model';
import type { FindingStore } from '../finding/ports';
import { inParallel } from '../shared/concurrency';
import { redactText } from '../shared/redaction';
import type { LifecycleLauncher } from './ports';

/**
 * The one start rule, for both runtimes: a finding needs its lifecycle started when it is open
 * work and its current generation has no lifecycle yet (a new finding, a reopened one).
 *
 * Why this rule and no other:
 * - The generation is what a start is idempotent on (the execution name is the finding id plus the
 *   generation), so "no lifecycle for this generation" is exactly what a start can fix, and starting
 *   it twice does nothing.
 * - A status list (the deployed sweep read `open`+`reopened`, the local one four statuses) says
 *   nothing a generation does not: a finding reaches any other status only through a lifecycle
 *   that was started. Reading by status also made the sweep O(open) instead of O(unstarted).
 * - A closed finding has nothing to start until it is reopened, which bumps the generation.
 *
 * The local runner's recovery of a lifecycle whose hub stopped is not a second rule: the local
 * runner claims a start (`claimedAt`) and runs it in-process, so until it reaches its first wait the
 * finding stays where the sweep looks (`startInFlight`), and the sweep resumes it. On Step Functions
 * a started execution is durable, so nothing is left in flight.
 */
export const needsLifecycle = (f: Finding): boolean =>
  isOpenWork(f.status) && (f.lifecycle?.startedGeneration ?? 0) < f.generation;

/** A start a local runner claimed and has not yet brought to its first wait (nor to its end). */
export const startInFlight = (f: Finding): boolean =>
  isOpenWork(f.status) && !needsLifecycle(f) && f.lifecycle?.claimedAt !== undefined && !f.lifecycle.waitingAt;

/** Whether the finding belongs to the sparse index the sweep reads (FindingStore.awaitingLifecycle). */
export const awaitsLifecycle = (f: Finding): boolean => needsLifecycle(f) || startInFlight(f);

/** A failure as one redacted line (a start failure is logged, and may name what it was given). */
export const describeStartError = (err: unknown) =>
  redactText(err instanceof Error ? err.message : String(err)).slice(0, 300);

export interface Launched<Run> {
  id: string;
  run: Run;
}

export interface StartResult<Run> {
  launched: Array<Launched<Run>>;
  /** Left for the sweep: the start failed (`problem`), or the caller's time ran out first. */
  deferred: Array<{ id: string; problem?: string }>;
}

export interface StartOptions {
  /** Also resume starts in flight whose runner stopped (the sweep). */
  recover?: boolean;
  /** Epoch ms after which nothing more is started: the rest is left for the sweep. */
  until?: number;
}

/**
 * Starts the lifecycles these findings need (the start rule), side by side up to the launcher's
 * `concurrency` (independent lifecycles never touch the same item); with `recover`, also resumes
 * stalled ones the launcher can resume. A start that fails does not stop the others: it is left
 * for the sweep, which finds it in the sparse index. What an ingest calls right after its commit,
 * and what the sweep calls on what it reads.
 */
export async function startLifecycles<Run>(
  launcher: LifecycleLauncher<Run>,
  findings: Iterable<Finding>,
  options: StartOptions = {},
): Promise<StartResult<Run>> {
  const candidates = [...findings].filter((f) => needsLifecycle(f) || (options.recover && startInFlight(f)));
  const result: StartResult<Run> = { launched: [], deferred: [] };
  await inParallel(launcher.concurrency ?? 1, candidates, async (finding) => {
    if (options.until !== undefined && Date.now() >= options.until) {
      result.deferred.push({ id: finding.id });
      return;
    }
    try {
      const run = needsLifecycle(finding) ? await launcher.start(finding) : await launcher.recoverStalled?.(finding);
      if (run !== undefined) result.launched.push({ id: finding.id, run });
    } catch (err) {
      result.deferred.push({ id: finding.id, problem: describeStartError(err) });
    }
  });
  return result;
}

/**
 * The sweep, the safety net under the starts at ingest: reads the sparse index of findings whose
 * current generation has no lifecycle (or, locally, whose start is in flight), so it costs
 * O(unstarted) reads, never O(open); starts them in parallel within the launcher's rate, and
 * resumes stalled local ones. Idempotent.
 */
export async function sweepLifecycles<Run>(
  store: Pick<FindingStore, 'awaitingLifecycle'>,
  launcher: LifecycleLauncher<Run>,
  options: Omit<StartOptions, 'recover'> = {},
): Promise<StartResult<Run>> {
  const result: StartResult<Run> = { launched: [], deferred: [] };
  for await (const page of store.awaitingLifecycle()) {
    const started = await startLifecycles(launcher, page, { ...options, recover: true });
    result.launched.push(...started.launched);
    result.deferred.push(...started.deferred);
  }
  return result;
}
