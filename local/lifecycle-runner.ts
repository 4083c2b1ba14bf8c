import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import type { LifecycleLauncher, RemediationPort } from '@core/lifecycle/ports';
import { LifecycleStateSchema, type LifecycleState, type ResumeAt } from '@core/lifecycle/state';
import { runStep, StartClaimedElsewhere, type LifecycleDeps, type StepName } from '@core/lifecycle/steps';
import { updateFinding } from '@core/finding/update';
import type { Finding } from '@core/finding/model';
import type { FindingWrite } from '@core/finding/ports';
import { describeStartError } from '@core/lifecycle/start';
import { WriteBehindFindingStore } from '@core/finding/write-behind';
import { forLocalRunner, readLifecycleDefinition, type AslDefinition } from './lifecycle-definition';

/** A claimed lifecycle that has not parked for this long is taken to have stopped with its hub. */
export const STALLED_AFTER_MS = 5 * 60 * 1000;

/**
 * Lifecycles run at once by default. They mostly wait on DynamoDB, and a run's write is about four
 * items, which the group commit merges into transactions of up to 100, two in flight: 48 runs keep
 * both full (16 filled one, and DynamoDB Local's table lock sat idle on the round trip between them).
 * Measured at 5,000 new findings, `closeloop ingest` 43.4 s → 34.2 s (means of 2 and 4 alternating runs).
 */
export const DEFAULT_CONCURRENCY = 48;

/** Times a start held in memory is run again after someone else wrote its finding, before it runs writing through. */
const HELD_START_ATTEMPTS = 3;

const RUNNING_STATUSES: ReadonlySet<Finding['status']> = new Set(['open', 'reopened', 'remediating', 'verifying']);

function isStalled(f: Finding, stalledAfterMs: number): boolean {
  const lc = f.lifecycle;
  if (!lc || lc.startedGeneration < f.generation || lc.waitingAt || !RUNNING_STATUSES.has(f.status)) return false;
  return !lc.claimedAt || Date.now() - Date.parse(lc.claimedAt) >= stalledAfterMs;
}

/** Appends the name of every state the execution enters; resolves when its event log ends. */
export async function recordStatesEntered(eventLogs: AsyncIterable<unknown>, path: string[]): Promise<void> {
  try {
    for await (const event of eventLogs) {
      if ((event as { type: string }).type === 'StateEntered')
        path.push((event as { state: { name: string } }).state.name);
    }
  } catch (err) {
    void err; // the log ends with the execution's own error, which its `result` reports
  }
}

export interface LocalRun {
  /** States entered, in order. */
  path: string[];
  /** The wait the lifecycle parked at, when it did not end. */
  parkedAt?: string;
  outcome: 'parked' | 'succeeded' | 'failed';
}

/** How a run begins: `claimStart` makes its triage the guarded claim of the start. */
interface RunOptions {
  claimStart?: boolean;
}

/**
 * Runs finding lifecycles locally: statemachines/finding-lifecycle.asl.json in
 * aws-local-stepfunctions, every Task bound to the same `runStep` the Lambda runs. A waiting
 * state records its wait (and timer) in DynamoDB and the execution stops there ("parks");
 * a decision, an owner signal or `closeloop tick` resumes it with a new execution entering at
 * `resumeAt`. So nothing waits in memory, and a restart loses nothing.
 */
export class LocalLifecycleRunner implements LifecycleLauncher<LocalRun> {
  /** Independent lifecycles run side by side: each touches only its own finding's items. */
  readonly concurrency: number;
  private readonly definition: AslDefinition;
  /** Locally the exception's expiry is a timer fired by `tick`, not an in-process Wait. */
  private readonly parkAfter: ReadonlySet<string>;

  constructor(
    private readonly deps: LifecycleDeps & { remediation: RemediationPort },
    options: { concurrency?: number } = {},
  ) {
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.definition = forLocalRunner(readLifecycleDefinition());
    // Validated once here: validating (compiling the ASL schema) on every run was most of a run's CPU.
    new StateMachine(this.definition as never);
    this.parkAfter = new Set([
      ...Object.entries(this.definition.States)
        .filter(
          ([, s]) =>
            s.Type === 'Task' &&
            s.Resource?.startsWith('arn:aws:states:::lambda:invoke') &&
            s.Resource.endsWith('.waitForTaskToken'),
        )
        .map(([name]) => name),
      'AcceptRisk',
    ]);
  }

  /** Runs from `state.resumeAt` until the lifecycle parks or ends. */
  async run(state: LifecycleState): Promise<LocalRun> {
    const run = await this.execute(state, {});
    return run!; // only a claiming start can lose its claim
  }

  /** Runs from `state.resumeAt` until the lifecycle parks or ends; undefined when its start was claimed elsewhere. */
  private async execute(state: LifecycleState, options: RunOptions): Promise<LocalRun | undefined> {
    const input = LifecycleStateSchema.parse(state);
    let parkedAt: string | undefined;
    let claimedElsewhere = false;
    let abort: () => void = () => undefined;
    const taskStates = Object.entries(this.definition.States).filter(
      ([, s]) => s.Type === 'Task' && s.Resource?.startsWith('arn:aws:states:::lambda:invoke'),
    );
    const handlers = Object.fromEntries(
      taskStates.map(([name]) => [
        name,
        async (parameters: { Payload: { step: StepName; state: unknown } }) => {
          const step = parameters.Payload.step;
          let result: LifecycleState;
          try {
            result = await runStep(step, LifecycleStateSchema.parse(parameters.Payload.state), this.deps, {
              ...(options.claimStart && step === 'triage' ? { claimStart: true } : {}),
            });
          } catch (err) {
            if (!(err instanceof StartClaimedElsewhere)) throw err;
            claimedElsewhere = true;
            abort();
            return {};
          }
          if (this.parkAfter.has(name)) {
            parkedAt = name;
            abort();
            return {};
          }
          return { Payload: result };
        },
      ]),
    );
    const machine = new StateMachine(this.definition as never, { validationOptions: { noValidate: true } });
    // Each run is its own execution: a remediation after an approval is a new rotation attempt.
    const taskToken = `local-${randomUUID()}`;
    const remediate = async (parameters: {
      Input: { findingId: string; generation: number; lifecycle: LifecycleState };
    }) =>
      this.deps.remediation.remediate({
        findingId: parameters.Input.findingId,
        generation: parameters.Input.generation,
        lifecycle: parameters.Input.lifecycle,
        lifecycleTaskToken: taskToken,
      });
    const execution = machine.run(input, {
      noThrowOnAbort: true,
      context: {
        Task: { Token: taskToken },
        StateMachine: { Id: 'local:finding-lifecycle' },
        Execution: { Id: `local:finding-lifecycle:${input.findingId}` },
      },
      overrides: {
        taskResourceLocalHandlers: { ...handlers, Remediate: remediate as never, ContinueAsNew: async () => ({}) },
        retryIntervalOverrides: Object.fromEntries(taskStates.map(([name]) => [name, 0])),
      },
    });
    abort = execution.abort;
    const path: string[] = [];
    const logs = recordStatesEntered(execution.eventLogs, path);
    let outcome: LocalRun['outcome'];
    try {
      await execution.result;
      outcome = parkedAt ? 'parked' : 'succeeded';
    } catch (err) {
      void err; // a failed lifecycle has already recorded lifecycle.failed through RecordFailure
      outcome = 'failed';
    }
    await logs;
    if (claimedElsewhere) return undefined;
    return { path, outcome, ...(parkedAt ? { parkedAt } : {}) };
  }

  /**
   * Starts the lifecycle of a finding's current generation unless it was started already. The
   * claim is the triage's own guarded write (one write, not two), so two hubs never start the same
   * generation twice: the one whose write loses stops there, having written nothing. Outside a
   * segment the "stops there" is triage's (StartClaimedElsewhere); inside one, the rerun's.
   */
  async start(finding: Finding): Promise<LocalRun | undefined> {
    if ((finding.lifecycle?.startedGeneration ?? 0) >= finding.generation) return undefined;
    const state: LifecycleState = { findingId: finding.id, generation: finding.generation, resumeAt: 'triage' };
    // With a write-behind store, the start (triage, route, plan, its first wait) is one write: see
    // WriteBehindFindingStore. When someone else wrote the finding meanwhile, nothing of it was
    // applied, and it runs again on the fresh finding (whose claim may now be someone else's).
    const store = this.deps.store;
    if (store instanceof WriteBehindFindingStore) {
      for (let attempt = 0; attempt < HELD_START_ATTEMPTS; attempt++) {
        // The first attempt starts from the finding as the caller read it (the ingest's commit,
        // the sweep's page): a stale copy loses the guard, and the next attempt reads it afresh.
        const { value, lost } = await store.segment(finding.id, () => this.execute(state, { claimStart: true }), {
          ...(attempt === 0 ? { known: finding } : {}),
        });
        if (!lost) return value;
      }
    }
    return this.execute(state, { claimStart: true });
  }

  /**
   * An ingest's write of a finding that needs its lifecycle, committed with the start (triage,
   * route, plan, its first wait) as one write when the store holds writes (the hub's): the finding
   * is written once, its events in one page. The guard is the ingest's own (a new finding must not
   * exist yet, a changed one must still be the version the ingest read), so a lost guard means
   * someone else wrote the finding first: nothing was applied, and the ingest merges again.
   */
  async commitWithStart(
    write: FindingWrite,
  ): Promise<{ committed: false } | { committed: true; run?: LocalRun; problem?: string }> {
    const store = this.deps.store;
    const finding = write.finding;
    if (
      !(store instanceof WriteBehindFindingStore) ||
      (finding.lifecycle?.startedGeneration ?? 0) >= finding.generation
    ) {
      const { conflicts } = await this.deps.store.commit([write]);
      if (conflicts.length > 0) return { committed: false };
      try {
        const run = await this.start(finding);
        return { committed: true, ...(run ? { run } : {}) };
      } catch (err) {
        return { committed: true, problem: describeStartError(err) };
      }
    }
    const state: LifecycleState = { findingId: finding.id, generation: finding.generation, resumeAt: 'triage' };
    const outcome = await store.seeded(write, () => this.execute(state, { claimStart: true }));
    if (!outcome.committed) return outcome;
    if (outcome.error !== undefined) return { committed: true, problem: describeStartError(outcome.error) };
    return { committed: true, ...(outcome.value ? { run: outcome.value } : {}) };
  }

  /**
   * A lifecycle whose hub stopped (a crash, a killed terminal) after claiming its start and
   * before its first park: started, not waiting anywhere, not ended, and claimed longer ago
   * than `stalledAfterMs` (wall clock, like leases: a simulated hub clock must not make a
   * running lifecycle look stalled). The recovery is claimed with a guarded write, so two hubs
   * never both resume it; it re-enters at the phase boundary it had reached.
   */
  async recoverStalled(finding: Finding, stalledAfterMs = STALLED_AFTER_MS): Promise<LocalRun | undefined> {
    if (!isStalled(finding, stalledAfterMs)) return undefined;
    let claimed = false;
    const current = await updateFinding(this.deps.store, this.deps.clock, finding.id, (f) => {
      if (!isStalled(f, stalledAfterMs) || f.lifecycle?.claimedAt !== finding.lifecycle?.claimedAt) return undefined;
      claimed = true;
      return {
        finding: { ...f, lifecycle: { ...f.lifecycle!, claimedAt: new Date().toISOString() } },
        events: [
          {
            actor: 'closeloop:lifecycle',
            action: 'lifecycle.recovered',
            reason: `generation ${f.generation} stopped before its first wait (claimed ${f.lifecycle!.claimedAt}); resumed`,
          },
        ],
      };
    });
    if (!claimed) return undefined;
    // Triage done (owner and due date set) → decide again; a rotation already verified → verify.
    const resumeAt: ResumeAt =
      current.status === 'verifying'
        ? 'verify'
        : current.lifecycle?.triagedGeneration === current.generation
          ? 'decide'
          : 'triage';
    return this.run({ findingId: current.id, generation: current.generation, resumeAt });
  }

  /** Resumes a parked lifecycle at a phase boundary. */
  resume(finding: Finding, resumeAt: ResumeAt, extra: Partial<LifecycleState> = {}): Promise<LocalRun> {
    return this.run({ findingId: finding.id, generation: finding.generation, resumeAt, ...extra });
  }
}
