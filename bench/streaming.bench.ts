/**
 * Memory stays flat while streaming: peak RSS of reading (the `streaming` topic) and of ingesting
 * into DynamoDB Local (the `memory` topic) a JSON-lines file of BENCH_LINES lines, against a file of
 * a tenth of that, each in a child process so each size starts clean.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { f, ROOT, writeTrufflehogLines, type BenchTopic } from './harness';

/** Runs `script` (CommonJS, tsx registered) in a fresh Node and parses what it prints. */
function child<T>(script: string): T {
  const out = spawnSync(process.execPath, ['-e', `const { register } = require('tsx/cjs/api'); register();${script}`], {
    encoding: 'utf8',
    cwd: ROOT,
    maxBuffer: 1 << 20,
  });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout) as T;
}
const mod = (path: string) => JSON.stringify(join(ROOT, path));

/** Peak RSS of streaming a JSON-lines file. */
function streamRss(path: string) {
  return child<{ peakRssMb: number; ms: number }>(`
    const { openReport } = require(${mod('connectors/sources/read-report.ts')});
    const { SecretHasher } = require(${mod('core/finding/identity.ts')});
    (async () => {
      const t0 = Date.now(); let peak = 0; let n = 0;
      const report = await openReport(${JSON.stringify(path)}, { ctx: { hasher: new SecretHasher(Buffer.alloc(32, 1)), receivedAt: new Date().toISOString() } });
      for await (const o of report.records) { if (++n % 1000 === 0) peak = Math.max(peak, process.memoryUsage().rss); }
      peak = Math.max(peak, process.memoryUsage().rss);
      process.stdout.write(JSON.stringify({ peakRssMb: peak / 1048576, ms: Date.now() - t0, n }));
    })();`);
}

/** Peak RSS of ingesting a JSON-lines file into DynamoDB. */
function ingestRss(path: string, endpoint: string, table: string) {
  return child<{ peakRssMb: number; ms: number; created: number }>(`
    const { ingestReportFiles } = require(${mod('connectors/sources/ingest-reports.ts')});
    const { SecretHasher } = require(${mod('core/finding/identity.ts')});
    const { DynamoFindingStore } = require(${mod('core/store/dynamo-finding-store.ts')});
    const { SingleTable } = require(${mod('core/store/table.ts')});
    const { ensureTable } = require(${mod('core/store/ensure-table.ts')});
    const { localClient } = require(${mod('local/dynamodb-local.ts')});
    const { systemClock } = require(${mod('core/shared/clock.ts')});
    (async () => {
      const client = localClient(${JSON.stringify(endpoint)});
      await ensureTable(client, ${JSON.stringify(table)});
      const store = new DynamoFindingStore(new SingleTable(client, ${JSON.stringify(table)}));
      let peak = 0; const t0 = Date.now();
      const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
      const { total } = await ingestReportFiles([${JSON.stringify(path)}], { store, clock: systemClock, hasher: new SecretHasher(Buffer.alloc(32, 1)) });
      clearInterval(timer); peak = Math.max(peak, process.memoryUsage().rss); client.destroy();
      process.stdout.write(JSON.stringify({ peakRssMb: peak / 1048576, ms: Date.now() - t0, created: total.created }));
    })();`);
}

export interface StreamingResult {
  smallLines: number;
  largeLines: number;
  largeFileMb: number;
  smallPeakRssMb: number;
  largePeakRssMb: number;
  rssRatioLargeVsSmall: number;
  largeMs: number;
  linesPerSecond: number;
}

export const streamingBench: BenchTopic<StreamingResult> = {
  name: 'streaming',
  async run(ctx) {
    const small = join(ctx.dir, 'small.jsonl');
    const large = join(ctx.dir, 'large.jsonl');
    await writeTrufflehogLines(small, ctx.lines / 10);
    await writeTrufflehogLines(large, ctx.lines);
    const a = streamRss(small);
    const b = streamRss(large);
    return {
      smallLines: ctx.lines / 10,
      largeLines: ctx.lines,
      largeFileMb: statSync(large).size / 1048576,
      smallPeakRssMb: a.peakRssMb,
      largePeakRssMb: b.peakRssMb,
      rssRatioLargeVsSmall: b.peakRssMb / a.peakRssMb,
      largeMs: b.ms,
      linesPerSecond: (ctx.lines / b.ms) * 1000,
    };
  },
  print: (st) => [
    `streaming ${st.largeLines} JSON lines (${f(st.largeFileMb, 0)} MB) peak RSS ${f(st.largePeakRssMb, 0)} MB vs ${st.smallLines} lines ${f(st.smallPeakRssMb, 0)} MB → ${f(st.rssRatioLargeVsSmall)}× for 10× the data; ${f(st.linesPerSecond, 0)} lines/s`,
  ],
};

export interface IngestMemoryResult {
  smallLines: number;
  largeLines: number;
  smallPeakRssMb: number;
  largePeakRssMb: number;
  rssRatioLargeVsSmall: number;
  largeCreated: number;
  largeMs: number;
  findingsPerSecond: number;
}

export const ingestMemoryBench: BenchTopic<IngestMemoryResult> = {
  name: 'memory',
  async run(ctx) {
    const { endpoint } = await ctx.dynamo();
    const small = join(ctx.dir, 'ingest-small.jsonl');
    const large = join(ctx.dir, 'ingest-large.jsonl');
    await writeTrufflehogLines(small, ctx.lines / 10);
    await writeTrufflehogLines(large, ctx.lines);
    const a = ingestRss(small, endpoint, 'bench-mem-small');
    const b = ingestRss(large, endpoint, 'bench-mem-large');
    return {
      smallLines: ctx.lines / 10,
      largeLines: ctx.lines,
      smallPeakRssMb: a.peakRssMb,
      largePeakRssMb: b.peakRssMb,
      rssRatioLargeVsSmall: b.peakRssMb / a.peakRssMb,
      largeCreated: b.created,
      largeMs: b.ms,
      findingsPerSecond: (b.created / b.ms) * 1000,
    };
  },
  print: (im) => [
    `ingest of ${im.largeLines} JSON lines into DynamoDB Local: peak RSS ${f(im.largePeakRssMb, 0)} MB vs ${im.smallLines} lines ${f(im.smallPeakRssMb, 0)} MB → ${f(im.rssRatioLargeVsSmall)}× for 10× the data; ${f(im.findingsPerSecond, 0)} findings/s`,
  ],
};
