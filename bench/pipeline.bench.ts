/**
 * Report → every finding owned, deadlined and ticketed, on the embedded default's path: the CLI's
 * own `closeloop ingest` (which starts every new finding's lifecycle) and then whatever
 * `closeloop tick` still has to do (ticket sync), in process, with the DEFAULT policy and owners
 * nobody mapped. Baseline: raw BatchWriteItem (25 per call, 4 in flight) of the items an ingest of
 * the same report writes, into the same DynamoDB Local, in the same run. Target ≤ 15×.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { join } from 'node:path';
import { ingestReportFiles } from '../connectors/sources/ingest-reports';
import { ensureTable } from '../core/store/ensure-table';
import { main } from '../local/cli/main';
import {
  f,
  freshTable,
  gitleaksReport,
  rawBatchWrite,
  rawTransactWrite,
  scanAll,
  time,
  type BenchContext,
  type BenchTopic,
} from './harness';

export interface PipelineResult {
  findings: number;
  itemsOfIngest: number;
  ingestCommandMs: number;
  /** Every `closeloop tick` it took until every finding was ticketed (or MAX_TICKS). */
  tickCommandMs: number;
  ticks: number;
  totalMs: number;
  rawBatchWriteMs: number;
  ratio: number;
  /** Items the pipeline leaves per finding (findings, audit events, ticket work, tickets, links, notices). */
  itemsPerFinding: number;
  /** Those items written raw as TransactWriteItems (100 per call): what writing them alone costs, against the baseline. */
  itemsAsRawTransactionsVsBaseline: number;
  owned: number;
  deadlined: number;
  ticketed: number;
  findingsPerSecond: number;
  target: number;
}

/** Runs `closeloop <args>` in this process with `env` added to the environment; throws on a non-zero exit. */
export async function runCli(args: string[], env: Record<string, string>): Promise<string[]> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const out: string[] = [];
  try {
    const code = await main(['node', 'closeloop', ...args], { out: (s) => out.push(s), err: (s) => out.push(s) });
    if (code !== 0) throw new Error(`closeloop ${args.join(' ')} exited ${code}: ${out.join(' | ').slice(0, 500)}`);
    return out;
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

/** Ticks the pipeline may take; more means something is stuck, and `ticketed` says so. */
const MAX_TICKS = 5;

async function runPipeline(ctx: BenchContext, client: DynamoDBClient, endpoint: string): Promise<PipelineResult> {
  const n = Number(process.env.BENCH_PIPELINE_FINDINGS ?? 1000);
  const file = join(ctx.dir, 'pipeline.json');
  writeFileSync(file, gitleaksReport(n, 'pipeline'));
  // The baseline: the very items an ingest of this report writes, raw.
  const ingestOnly = await freshTable(client, 'bench-pipeline-ingest');
  await ingestReportFiles([file], { store: ingestOnly, clock: ctx.clock, hasher: ctx.hasher });
  const items = await scanAll(client, 'bench-pipeline-ingest');
  // The strongest baseline: the fastest of three runs, each into a fresh table (the first ones warm the JVM).
  const raw: number[] = [];
  for (let k = 0; k < 3; k++) {
    await ensureTable(client, `bench-pipeline-raw-${k}`);
    raw.push(await time(() => rawBatchWrite(client, `bench-pipeline-raw-${k}`, items, 4)));
  }
  const rawBatchWriteMs = Math.min(...raw);

  const env = {
    CLOSELOOP_HOME: mkdtempSync(join(ctx.dir, 'pipeline-home-')),
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    CLOSELOOP_TABLE: 'bench-pipeline',
  };
  const ingestCommandMs = await time(() => runCli(['ingest', file], env));
  const store = await freshTable(client, 'bench-pipeline');
  // `tick` syncs tickets for at most a minute, then says what is still pending: at a size (or on a
  // machine) where that is not enough, the next tick goes on, as a user's (or `serve`'s) would. Every
  // tick until every finding is ticketed counts.
  let tickCommandMs = 0;
  let ticks = 0;
  let findings = await store.list();
  while (ticks < MAX_TICKS && (ticks === 0 || findings.some((x) => !x.ticket))) {
    tickCommandMs += await time(() => runCli(['tick'], env));
    ticks++;
    findings = await store.list();
  }
  const totalMs = ingestCommandMs + tickCommandMs;
  // What the pipeline leaves behind, written raw: the part of the ratio no request pattern can remove.
  const left = await scanAll(client, 'bench-pipeline');
  await ensureTable(client, 'bench-pipeline-left');
  const leftAsTransactionsMs = await time(() => rawTransactWrite(client, 'bench-pipeline-left', left));
  return {
    findings: findings.length,
    itemsOfIngest: items.length,
    ingestCommandMs,
    tickCommandMs,
    ticks,
    totalMs,
    rawBatchWriteMs,
    ratio: totalMs / rawBatchWriteMs,
    itemsPerFinding: left.length / n,
    itemsAsRawTransactionsVsBaseline: leftAsTransactionsMs / rawBatchWriteMs,
    owned: findings.filter((x) => x.owner).length,
    deadlined: findings.filter((x) => x.dueAt).length,
    ticketed: findings.filter((x) => x.ticket).length,
    findingsPerSecond: (findings.length / totalMs) * 1000,
    target: 15,
  };
}

export const pipelineBench: BenchTopic<PipelineResult> = {
  name: 'pipeline',
  // On a DynamoDB Local of its own: baseline and pipeline share it, and nothing else was written to it.
  run: (ctx) => ctx.ownDynamo(({ client, endpoint }) => runPipeline(ctx, client, endpoint)),
  print: (r) => [
    `report → owned, deadlined, ticketed: ${r.findings} findings (DEFAULT policy, owners unmapped) closeloop ingest ${f(r.ingestCommandMs, 0)} ms + closeloop tick ${f(r.tickCommandMs, 0)} ms${r.ticks > 1 ? ` (${r.ticks} ticks)` : ''} = ${f(r.totalMs, 0)} ms vs raw BatchWriteItem of the ingest's ${r.itemsOfIngest} items (25 per call, 4 in flight) ${f(r.rawBatchWriteMs, 0)} ms → ${f(r.ratio)}× (target ≤ ${r.target}×); ${f(r.findingsPerSecond, 0)} findings/s; owned ${r.owned}, deadlined ${r.deadlined}, ticketed ${r.ticketed} of ${r.findings}`,
    `  the pipeline leaves ${f(r.itemsPerFinding, 1)} items per finding; writing those alone, raw, as TransactWriteItems of 100 takes ${f(r.itemsAsRawTransactionsVsBaseline)}× the baseline`,
  ],
};
