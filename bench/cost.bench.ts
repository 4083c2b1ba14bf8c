/**
 * The cost model, from what it measures on the embedded default with the DEFAULT policy (owners
 * nobody mapped): per finding over a default lifecycle (`closeloop ingest` of a report, which
 * starts every lifecycle, then `closeloop tick`), the state transitions (states entered, what
 * Step Functions Standard bills), the DynamoDB read and write request units (as DynamoDB Local
 * reports them), the Lambda invocations (Task states that invoke a Lambda) and their duration;
 * one SLA escalation's units; and the deployed sweep's reads per day (every 5 minutes) at 1k and
 * BENCH_SWEEP_OPEN (100k) open findings, against the status-list sweep it replaced. Then the
 * monthly AWS cost per 1,000 findings at on-demand list prices (bench/prices.ts).
 */
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Finding } from '../core/finding/model';
import { sweepLifecycles } from '../core/lifecycle/start';
import type { LifecycleLauncher } from '../core/lifecycle/ports';
import { fireDueTimers } from '../core/lifecycle/timers';
import { DEFAULT_POLICY } from '../core/policy/policy';
import { fixedClock } from '../core/shared/clock';
import { toFindingItem } from '../core/store/dynamo-finding-store';
import { ensureTable } from '../core/store/ensure-table';
import { recordingPaths } from './containment.bench';
import {
  capacityMeter,
  f,
  freshTable,
  gitleaksReport,
  rawBatchWrite,
  ROOT,
  scanAll,
  time,
  type BenchTopic,
} from './harness';
import { runCli } from './pipeline.bench';
import { PRICES } from './prices';

/** Sweeps a day: the starter's schedule (infra FindingLifecycle startInterval, 5 minutes). */
const SWEEPS_PER_DAY = 288;
const DAYS_PER_MONTH = 30;
/** Memory of the lifecycle and rotation step Lambdas (infra CloseloopFunction default), in GB. */
const STEP_LAMBDA_GB = 0.5;
/** Lambda bills at least 1 ms; a cold start is not billed on the managed Node runtime. */
const MIN_BILLED_MS = 1;

export interface CostResult {
  findings: number;
  perFinding: {
    stateTransitions: number;
    readUnits: number;
    writeUnits: number;
    lambdaInvocations: number;
    lambdaMs: number;
    storageBytes: number;
  };
  escalation: { readUnits: number; writeUnits: number };
  sweep: Array<{
    open: number;
    readUnitsPerSweep: number;
    readsPerDay: number;
    statusListReadsPerDay: number;
    sweepMs: number;
  }>;
  monthly: Array<{
    open: number;
    lifecycle: number;
    storage: number;
    escalations: number;
    sweep: number;
    total: number;
    dominant: string;
  }>;
  prices: typeof PRICES;
  target: number;
}

/** The states of a definition that invoke a Lambda (each entry is one invocation). */
function lambdaStates(file: string): Set<string> {
  const asl = JSON.parse(readFileSync(join(ROOT, 'statemachines', file), 'utf8')) as {
    States: Record<string, { Resource?: string }>;
  };
  return new Set(
    Object.entries(asl.States)
      .filter(([, s]) => s.Resource?.startsWith('arn:aws:states:::lambda:invoke'))
      .map(([name]) => name),
  );
}

/** `n` copies of started findings waiting for their owner (new ids), for the sweep at size. */
function openFindingItems(template: Finding[], n: number) {
  return Array.from({ length: n }, (_, i) => {
    const t = template[i % template.length]!;
    const { secretHash: _secretHash, ticket: _ticket, ...rest } = t;
    const id = `NHI-${(0xa000000000000000n + BigInt(i)).toString(16).toUpperCase()}`;
    // Waiting for its owner, the status the replaced sweep read (`open`): the steady state of a finding.
    const lifecycle = { ...rest.lifecycle!, waitingAt: 'AwaitOwnerFix' as const };
    return marshall(toFindingItem({ ...rest, id, status: 'open', lifecycle }), { removeUndefinedValues: true });
  });
}

export const costBench: BenchTopic<CostResult> = {
  name: 'cost',
  async run(ctx) {
    const { client, endpoint } = await ctx.dynamo();
    const n = Number(process.env.BENCH_COST_FINDINGS ?? 300);
    const file = join(ctx.dir, 'cost.json');
    writeFileSync(file, gitleaksReport(n, 'cost'));
    const env = {
      CLOSELOOP_HOME: mkdtempSync(join(ctx.dir, 'cost-home-')),
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      CLOSELOOP_TABLE: 'bench-cost',
      // Priced as deployed: the Lambdas send each request alone (no group commit), so the units are theirs.
      CLOSELOOP_GROUP_COMMIT: 'off',
    };
    const meter = capacityMeter();
    let lifecycleMs = 0;
    const recorded = await recordingPaths(async () => {
      lifecycleMs += await time(() => runCli(['ingest', file], env));
      lifecycleMs += await time(() => runCli(['tick'], env));
    });
    const lifecycleUnits = { ...meter.used };
    const store = await freshTable(client, 'bench-cost');
    const findings = await store.list();
    // The DynamoDB Local sizes of everything the findings hold (findings, events, tickets, outbox…).
    const items = await scanAll(client, 'bench-cost');
    const storageBytes = items.reduce((sum, item) => sum + JSON.stringify(item).length + 100, 0) / findings.length;

    const lifecycleLambdas = lambdaStates('finding-lifecycle.asl.json');
    const rotationLambdas = lambdaStates('secret-rotation.asl.json');
    const transitions = [...recorded.lifecycles, ...recorded.rotations].reduce((s, p) => s + p.length, 0);
    const invocations =
      recorded.lifecycles.reduce((s, p) => s + p.filter((x) => lifecycleLambdas.has(x)).length, 0) +
      recorded.rotations.reduce((s, p) => s + p.filter((x) => rotationLambdas.has(x)).length, 0) +
      1; // the ingest Lambda's one invocation for the report
    // Duration: the commands' wall time spread over the invocations, times the lifecycles run side by side (8).
    const lambdaMs = Math.max(MIN_BILLED_MS, (lifecycleMs * 8) / invocations);

    // One SLA escalation of every finding (the due date passed): its units.
    meter.reset();
    const late = fixedClock(new Date(Date.now() + 400 * 86_400_000).toISOString());
    const fired = await fireDueTimers({ store, clock: late, policy: DEFAULT_POLICY });
    const escalated = Math.max(1, fired.escalated.length);
    const escalation = { readUnits: meter.used.readUnits / escalated, writeUnits: meter.used.writeUnits / escalated };

    // The sweep at size: started, waiting findings (the steady state), read through the sparse
    // index, against the status-list sweep it replaced (every open and reopened finding).
    const counting: LifecycleLauncher = { concurrency: 16, start: async () => undefined };
    const sweep: CostResult['sweep'] = [];
    const sizes = [1000, Number(process.env.BENCH_SWEEP_OPEN ?? 100_000)];
    for (const open of sizes) {
      const table = `bench-cost-sweep-${open}`;
      await ensureTable(client, table);
      meter.stop();
      await rawBatchWrite(client, table, openFindingItems(findings, open), 4);
      const m = capacityMeter();
      const sweepStore = await freshTable(client, table);
      const sweepMs = await time(async () => {
        await sweepLifecycles(sweepStore, counting);
        await fireDueTimers({ store: sweepStore, clock: ctx.clock, policy: DEFAULT_POLICY });
      });
      const readUnitsPerSweep = m.used.readUnits;
      m.reset();
      for (const status of ['open', 'reopened'] as const) await sweepStore.list({ status });
      const statusListReads = m.used.readUnits;
      m.stop();
      sweep.push({
        open,
        readUnitsPerSweep,
        readsPerDay: readUnitsPerSweep * SWEEPS_PER_DAY,
        statusListReadsPerDay: statusListReads * SWEEPS_PER_DAY,
        sweepMs,
      });
    }
    meter.stop();

    const per = {
      stateTransitions: transitions / findings.length,
      readUnits: lifecycleUnits.readUnits / findings.length,
      writeUnits: lifecycleUnits.writeUnits / findings.length,
      lambdaInvocations: invocations / findings.length,
      lambdaMs,
      storageBytes,
    };
    const lifecyclePerFinding =
      per.stateTransitions * PRICES.stateTransition +
      per.readUnits * PRICES.readRequestUnit +
      per.writeUnits * PRICES.writeRequestUnit +
      per.lambdaInvocations * (PRICES.lambdaRequest + (lambdaMs / 1000) * STEP_LAMBDA_GB * PRICES.lambdaGbSecond) +
      2 * PRICES.sqsRequest; // the report's S3 event through SQS (receive + delete), shared by its findings at most
    const escalationsPerMonth = DAYS_PER_MONTH / DEFAULT_POLICY.escalationCadenceDays;
    const monthly = sweep.map((s) => {
      const thousands = s.open / 1000;
      const sweepMonthly =
        DAYS_PER_MONTH *
        (s.readsPerDay * PRICES.readRequestUnit +
          SWEEPS_PER_DAY * (PRICES.lambdaRequest + (s.sweepMs / 1000) * STEP_LAMBDA_GB * PRICES.lambdaGbSecond));
      const parts = {
        // Worst case: every one of the 1,000 findings runs its whole lifecycle this month.
        lifecycle: 1000 * lifecyclePerFinding,
        storage: ((1000 * per.storageBytes) / 1e9) * PRICES.storageGbMonth,
        // Worst case: every one of them overdue all month, escalated every escalationCadenceDays.
        escalations:
          1000 *
          escalationsPerMonth *
          (escalation.readUnits * PRICES.readRequestUnit + escalation.writeUnits * PRICES.writeRequestUnit),
        sweep: sweepMonthly / thousands,
      };
      const dominant = Object.entries(parts).sort((a, b) => b[1] - a[1])[0]![0];
      return { open: s.open, ...parts, total: Object.values(parts).reduce((a, b) => a + b, 0), dominant };
    });
    return { findings: findings.length, perFinding: per, escalation, sweep, monthly, prices: PRICES, target: 1 };
  },
  print: (r) => [
    `cost: per finding over a default lifecycle (${r.findings} findings, DEFAULT policy): ${f(r.perFinding.stateTransitions, 1)} state transitions, ${f(r.perFinding.readUnits, 1)} RRU, ${f(r.perFinding.writeUnits, 1)} WRU, ${f(r.perFinding.lambdaInvocations, 1)} Lambda invocations of ~${f(r.perFinding.lambdaMs, 0)} ms, ${f(r.perFinding.storageBytes / 1024, 1)} KB stored; one SLA escalation ${f(r.escalation.readUnits, 1)} RRU + ${f(r.escalation.writeUnits, 1)} WRU`,
    ...r.sweep.map(
      (s) =>
        `cost: sweep at ${s.open} open findings: ${f(s.readUnitsPerSweep, 1)} RRU per sweep → ${f(s.readsPerDay, 0)} RRU/day (the status-list sweep it replaced: ${f(s.statusListReadsPerDay, 0)} RRU/day), ${f(s.sweepMs, 0)} ms`,
    ),
    ...r.monthly.map(
      (m) =>
        `cost: per 1,000 findings/month at ${m.open} open (${r.prices.region}, prices of ${r.prices.asOf}): $${f(m.total, 3)} = lifecycle $${f(m.lifecycle, 3)} + storage $${f(m.storage, 3)} + escalations $${f(m.escalations, 3)} + sweep $${f(m.sweep, 4)} (target ≤ $${r.target}; dominant: ${m.dominant})`,
    ),
  ],
};
