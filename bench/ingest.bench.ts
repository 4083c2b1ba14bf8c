/**
 * Ingest of N new findings, and re-ingest of the same report, against the honest baseline: the
 * very items the ingest wrote (findings and audit events), written with raw BatchWriteItem (25 per
 * call, 4 in flight) into the same DynamoDB Local, in the same run. Targets: ingest ≤ 2×,
 * re-ingest ≤ 0.5× the ingest. Also measured: the ingest's own write protocol raw (its floor), every
 * item as a guarded transaction, and unguarded PutItem, each against the same baseline.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTable } from '../core/store/ensure-table';
import { ingestReportFiles } from '../connectors/sources/ingest-reports';
import {
  f,
  freshTable,
  gitleaksReport,
  median,
  rawBatchWrite,
  rawGuardedFindingsThenPages,
  rawPutItems,
  rawTransactWrite,
  scanAll,
  time,
  type BenchTopic,
} from './harness';

export interface IngestResult {
  findings: number;
  itemsWritten: number;
  ingestMs: number;
  reingestMs: number;
  rawBatchWrite4StreamsMs: number;
  rawBatchWrite1StreamMs: number;
  rawTransactWriteMs: number;
  rawProtocolMs: number;
  rawPutItemMs: number;
  ratioVsRawBatchWrite4Streams: number;
  ratioVsRawBatchWrite1Stream: number;
  transactionFloorVsRawBatchWrite: number;
  /** The ingest's write protocol, raw (findings guarded, their pages batched after), against the baseline. */
  protocolFloorVsRawBatchWrite: number;
  /** The ingest against that raw protocol: what its reads, merges and retries add to its own floor. */
  ingestVsProtocolFloor: number;
  putItemVsRawBatchWrite: number;
  reingestVsIngest: number;
  findingsPerSecond: number;
  targets: { ingest: number; reingest: number };
}

export const ingestBench: BenchTopic<IngestResult> = {
  name: 'ingest',
  async run(ctx) {
    const { client } = await ctx.dynamo();
    const rounds = 3;
    const m = { ingest: [] as number[], reingest: [] as number[], raw4: [] as number[], raw1: [] as number[] };
    const transact: number[] = [];
    const protocol: number[] = [];
    const puts: number[] = [];
    let itemsWritten = 0;
    // Round 0 warms DynamoDB Local's JIT for both sides and is dropped: otherwise the first ingest of
    // `npm run bench` pays for the JVM's warm-up and the baselines after it do not.
    for (let r = 0; r <= rounds; r++) {
      const file = join(ctx.dir, `gitleaks-${r}.json`);
      writeFileSync(file, gitleaksReport(ctx.n, `r${r}`));
      const table = `bench-ingest-${r}`;
      const store = await freshTable(client, table);
      const options = { store, clock: ctx.clock, hasher: ctx.hasher };
      const warm = r === 0;
      const keep = (into: number[], ms: number) => (warm ? undefined : into.push(ms));
      keep(m.ingest, await time(() => ingestReportFiles([file], options)));
      keep(m.reingest, await time(() => ingestReportFiles([file], options)));
      const items = await scanAll(client, table);
      itemsWritten = items.length;
      for (const [streams, into] of [
        [4, m.raw4],
        [1, m.raw1],
      ] as const) {
        const rawTable = `bench-raw-${streams}-${r}`;
        await ensureTable(client, rawTable);
        keep(into, await time(() => rawBatchWrite(client, rawTable, items, streams)));
      }
      const transactTable = `bench-raw-transact-${r}`;
      await ensureTable(client, transactTable);
      keep(transact, await time(() => rawTransactWrite(client, transactTable, items)));
      const protocolTable = `bench-raw-protocol-${r}`;
      await ensureTable(client, protocolTable);
      keep(protocol, await time(() => rawGuardedFindingsThenPages(client, protocolTable, items)));
      const putTable = `bench-raw-put-${r}`;
      await ensureTable(client, putTable);
      keep(puts, await time(() => rawPutItems(client, putTable, items)));
    }
    const ingestMs = median(m.ingest);
    const raw4 = median(m.raw4);
    const raw1 = median(m.raw1);
    return {
      findings: ctx.n,
      itemsWritten,
      ingestMs,
      reingestMs: median(m.reingest),
      rawBatchWrite4StreamsMs: raw4,
      rawBatchWrite1StreamMs: raw1,
      rawTransactWriteMs: median(transact),
      rawProtocolMs: median(protocol),
      rawPutItemMs: median(puts),
      ratioVsRawBatchWrite4Streams: ingestMs / raw4,
      ratioVsRawBatchWrite1Stream: ingestMs / raw1,
      transactionFloorVsRawBatchWrite: median(transact) / raw4,
      protocolFloorVsRawBatchWrite: median(protocol) / raw4,
      ingestVsProtocolFloor: ingestMs / median(protocol),
      putItemVsRawBatchWrite: median(puts) / raw4,
      reingestVsIngest: median(m.reingest) / ingestMs,
      findingsPerSecond: (ctx.n / ingestMs) * 1000,
      targets: { ingest: 2, reingest: 0.5 },
    };
  },
  print: (r) => [
    `ingest of ${r.findings} new findings     ${f(r.ingestMs, 0)} ms vs raw BatchWriteItem of the same ${r.itemsWritten} items (25 per call, 4 in flight) ${f(r.rawBatchWrite4StreamsMs, 0)} ms → ${f(r.ratioVsRawBatchWrite4Streams)}× (target ≤ ${r.targets.ingest}×); vs one call at a time ${f(r.rawBatchWrite1StreamMs, 0)} ms → ${f(r.ratioVsRawBatchWrite1Stream)}×; ${f(r.findingsPerSecond, 0)} findings/s (DefectDojo ≈ 50/s)`,
    `  the write protocol's floor: the same items raw, findings as guarded TransactWriteItems (100 per call, 8 in flight), each call followed by BatchWriteItem of their event pages ${f(r.rawProtocolMs, 0)} ms = ${f(r.protocolFloorVsRawBatchWrite)}× the baseline; the ingest takes ${f(r.ingestVsProtocolFloor)}× that floor`,
    `  every item guarded (raw TransactWriteItems of all the items, 100 per call, as ingest wrote before a creation's events rode in its finding) ${f(r.rawTransactWriteMs, 0)} ms = ${f(r.transactionFloorVsRawBatchWrite)}× the baseline`,
    `  DynamoDB Local's write lock: raw PutItem of the same items, no condition, 16 in flight ${f(r.rawPutItemMs, 0)} ms = ${f(r.putItemVsRawBatchWrite)}× the baseline (PutItem, UpdateItem and transactions run one at a time there; BatchWriteItem side by side)`,
    `re-ingest of the same report     ${f(r.reingestMs, 0)} ms → ${f(r.reingestVsIngest)}× the first ingest (target ≤ ${r.targets.reingest}×)`,
  ],
};
