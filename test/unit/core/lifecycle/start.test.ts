import { createFinding } from '@core/finding/merge';
import type { Finding, FindingStatus } from '@core/finding/model';
import type { LifecycleLauncher } from '@core/lifecycle/ports';
import { SWEEP_STATUSES, needsLifecycle, startLifecycles, sweepLifecycles } from '@core/lifecycle/start';
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

/** A launcher that records what it was asked to start and to recover. */
function aLauncher(runtime: LifecycleLauncher['runtime']) {
  const started: string[] = [];
  const recovered: string[] = [];
  const launcher: LifecycleLauncher<string> = {
    runtime,
    start: async (f) => (started.push(f.id), 'started'),
    ...(runtime === 'local_runner'
      ? { recoverStalled: async (f: Finding) => (recovered.push(f.id), 'recovered') }
      : {}),
  };
  return { launcher, started, recovered };
}

describe('the lifecycle start rule', () => {
  const statuses: FindingStatus[] = ['open', 'reopened', 'remediating', 'verifying', 'awaiting_approval', 'resolved'];
  const unstarted = statuses.map((status, i) => aFinding(i, { status }));
  const started = statuses.map((status, i) =>
    aFinding(10 + i, { status, lifecycle: { startedGeneration: 1, claimedAt: '2026-11-01T00:00:00Z' } }),
  );

  it('needs a lifecycle for a generation that has none: new findings and reopened ones', () => {
    expect(needsLifecycle(aFinding(1))).toBe(true);
    expect(needsLifecycle(aFinding(1, { lifecycle: { startedGeneration: 1 } }))).toBe(false);
    expect(needsLifecycle(aFinding(1, { generation: 2, lifecycle: { startedGeneration: 1 } }))).toBe(true);
  });

  it('on Step Functions, the sweep starts the open and reopened findings without a lifecycle, and nothing else', async () => {
    const { launcher, started: starts, recovered } = aLauncher('step_functions');
    const launched = await sweepLifecycles(aMemoryStore([...unstarted, ...started]), launcher);
    expect(starts).toEqual([unstarted[0]!.id, unstarted[1]!.id]);
    expect(recovered).toEqual([]);
    expect(launched).toEqual(starts.map((id) => ({ id, run: 'started' })));
  });

  it('on the local runner, the sweep also reads remediating and verifying findings, and asks to recover started ones', async () => {
    const { launcher, started: starts, recovered } = aLauncher('local_runner');
    await sweepLifecycles(aMemoryStore([...unstarted, ...started]), launcher);
    expect(SWEEP_STATUSES.local_runner).toEqual(['open', 'reopened', 'remediating', 'verifying']);
    expect(starts).toEqual(unstarted.slice(0, 4).map((f) => f.id));
    expect(recovered).toEqual(started.slice(0, 4).map((f) => f.id));
  });

  it('after an ingest, starts only what needs a lifecycle, and recovers nothing unless asked', async () => {
    const { launcher, started: starts, recovered } = aLauncher('local_runner');
    await startLifecycles(launcher, [...unstarted.slice(0, 2), ...started.slice(0, 2)]);
    expect(starts).toEqual(unstarted.slice(0, 2).map((f) => f.id));
    expect(recovered).toEqual([]);
  });
});
