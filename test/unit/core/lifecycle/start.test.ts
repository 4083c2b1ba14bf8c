import { createFinding } from '@core/finding/merge';
import type { Finding, FindingStatus } from '@core/finding/model';
import type { LifecycleLauncher } from '@core/lifecycle/ports';
import { awaitsLifecycle, needsLifecycle, startLifecycles, sweepLifecycles } from '@core/lifecycle/start';
import { anObservation } from '@test/support/factories';
import { aMemoryStore } from '@test/support/memory-store';

const aFinding = (n: number, overrides: Partial<Finding> = {}): Finding => ({
  ...createFinding(
    anObservation({ fingerprint: `secret:${String(n).padStart(64, '0')}` }),
    new Date('2026-11-01T00:00:00Z'),
    't',
  ).finding,
  ...overrides,
});

/** A launcher that records what it was asked to start and to recover (as the local runner can). */
function aLauncher(options: { recovers?: boolean; concurrency?: number; failFor?: string } = {}) {
  const started: string[] = [];
  const recovered: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const launcher: LifecycleLauncher<string> = {
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    start: async (f) => {
      if (f.id === options.failFor) throw new Error('DynamoDB said no');
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      started.push(f.id);
      return 'started';
    },
    ...(options.recovers ? { recoverStalled: async (f: Finding) => (recovered.push(f.id), 'recovered') } : {}),
  };
  return { launcher, started, recovered, maxInFlight: () => maxInFlight };
}

describe('the lifecycle start rule (one rule, both runtimes)', () => {
  const statuses: FindingStatus[] = ['open', 'reopened', 'remediating', 'verifying', 'awaiting_approval', 'resolved'];
  const unstarted = statuses.map((status, i) => aFinding(i, { status }));
  const parked = statuses.map((status, i) =>
    aFinding(10 + i, { status, lifecycle: { startedGeneration: 1, waitingAt: 'AwaitOwnerFix' } }),
  );
  const inFlight = aFinding(30, { lifecycle: { startedGeneration: 1, claimedAt: '2026-11-01T00:00:00Z' } });

  it('needs a lifecycle for an open generation that has none: new findings and reopened ones', () => {
    expect(needsLifecycle(aFinding(1))).toBe(true);
    expect(needsLifecycle(aFinding(1, { lifecycle: { startedGeneration: 1 } }))).toBe(false);
    expect(
      needsLifecycle(aFinding(1, { status: 'reopened', generation: 2, lifecycle: { startedGeneration: 1 } })),
    ).toBe(true);
    expect(needsLifecycle(aFinding(1, { status: 'resolved' }))).toBe(false);
  });

  it('keeps a local start in the sweep index until its first wait, so a stopped runner is resumed', () => {
    expect(awaitsLifecycle(inFlight)).toBe(true);
    expect(awaitsLifecycle({ ...inFlight, lifecycle: { ...inFlight.lifecycle!, waitingAt: 'AwaitOwnerFix' } })).toBe(
      false,
    );
    // Step Functions marks a start without a claim: a started execution is durable, nothing stays in flight.
    expect(awaitsLifecycle(aFinding(31, { lifecycle: { startedGeneration: 1 } }))).toBe(false);
  });

  it('the sweep reads only what awaits a lifecycle, starts what needs one and recovers what is in flight', async () => {
    const store = aMemoryStore([...unstarted, ...parked, inFlight]);
    const { launcher, started, recovered } = aLauncher({ recovers: true });
    const result = await sweepLifecycles(store, launcher);
    expect(started.sort()).toEqual(
      unstarted
        .filter((f) => f.status !== 'resolved')
        .map((f) => f.id)
        .sort(),
    );
    expect(recovered).toEqual([inFlight.id]);
    expect(result.launched).toHaveLength(started.length + 1);
  });

  it('after an ingest, starts only what needs a lifecycle, and recovers nothing', async () => {
    const { launcher, started, recovered } = aLauncher({ recovers: true });
    await startLifecycles(launcher, [...unstarted.slice(0, 2), ...parked.slice(0, 2), inFlight]);
    expect(started.sort()).toEqual(
      unstarted
        .slice(0, 2)
        .map((f) => f.id)
        .sort(),
    );
    expect(recovered).toEqual([]);
  });

  it('starts side by side up to the launcher’s concurrency, and a failed start is left for the sweep', async () => {
    const findings = Array.from({ length: 12 }, (_, i) => aFinding(100 + i));
    const { launcher, started, maxInFlight } = aLauncher({ concurrency: 4, failFor: findings[3]!.id });
    const result = await startLifecycles(launcher, findings);
    expect(maxInFlight()).toBe(4);
    expect(started).toHaveLength(11);
    expect(result.deferred).toEqual([{ id: findings[3]!.id, problem: 'DynamoDB said no' }]);
  });

  it('starts nothing after its deadline: the rest is left for the sweep', async () => {
    const { launcher, started } = aLauncher();
    const result = await startLifecycles(launcher, [aFinding(200), aFinding(201)], { until: Date.now() - 1 });
    expect(started).toEqual([]);
    expect(result.deferred.map((d) => d.id)).toEqual([aFinding(200).id, aFinding(201).id]);
  });
});
