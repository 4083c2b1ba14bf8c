/**
 * closeloop benchmarks: every figure is a ratio against a baseline measured in the same run.
 * `npm run bench` runs every topic (`bench/<topic>.bench.ts`); `BENCH_ONLY=ingest,lifecycle` runs
 * some; BENCH_FINDINGS / BENCH_LINES resize. Prints each topic's figures and writes
 * bench/out/results.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretHasher } from '../core/finding/identity';
import { fixedClock } from '../core/shared/clock';
import { localClient, startDynamoDbLocal, type RunningDynamoDb } from '../local/dynamodb-local';
import { bundlesBench } from './bundles.bench';
import { containmentBench } from './containment.bench';
import { costBench } from './cost.bench';
import { pipelineBench } from './pipeline.bench';
import { ingestBench } from './ingest.bench';
import { auditBench, ticketsBench } from './topics';
import { lifecycleBench } from './lifecycle.bench';
import { parseBench, parseFormatsBench } from './parse.bench';
import { reportsBench } from './reports.bench';
import { ingestMemoryBench, streamingBench } from './streaming.bench';
import { ROOT, topic, type AnyTopic, type BenchContext } from './harness';

/** Every topic, in the order they run; one line each. */
const TOPICS: AnyTopic[] = [
  topic(ingestBench),
  topic(parseBench),
  topic(parseFormatsBench),
  topic(streamingBench),
  topic(ingestMemoryBench),
  topic(pipelineBench),
  topic(lifecycleBench),
  topic(containmentBench),
  topic(costBench),
  topic(ticketsBench),
  topic(bundlesBench),
  topic(reportsBench),
  topic(auditBench),
];

async function main() {
  const only = new Set((process.env.BENCH_ONLY ?? '').split(',').filter(Boolean));
  const topics = TOPICS.filter((t) => only.size === 0 || only.has(t.name));
  const unknown = [...only].filter((name) => !TOPICS.some((t) => t.name === name));
  if (unknown.length > 0)
    throw new Error(`BENCH_ONLY: no topic ${unknown.join(', ')} (topics: ${TOPICS.map((t) => t.name).join(', ')})`);
  let dynamo: { running: RunningDynamoDb; client: DynamoDBClient } | undefined;
  const ctx: BenchContext = {
    n: Number(process.env.BENCH_FINDINGS ?? 5000),
    lines: Number(process.env.BENCH_LINES ?? 100_000),
    dir: mkdtempSync(join(tmpdir(), 'closeloop-bench-')),
    hasher: new SecretHasher(randomBytes(32)),
    clock: fixedClock('2026-11-01T00:00:00.000Z'),
    async ownDynamo(fn) {
      const running = await startDynamoDbLocal();
      const client = localClient(running.endpoint);
      try {
        return await fn({ client, endpoint: running.endpoint });
      } finally {
        client.destroy();
        await running.stop();
      }
    },
    async dynamo() {
      if (!dynamo) {
        const running = await startDynamoDbLocal();
        dynamo = { running, client: localClient(running.endpoint) };
      }
      return { client: dynamo.client, endpoint: dynamo.running.endpoint };
    },
  };
  console.log(`closeloop bench: ${topics.map((t) => t.name).join(', ')} (${ctx.n} findings per ingest round)`);
  const results: Record<string, unknown> = {};
  try {
    for (const t of topics) {
      const result = await t.run(ctx);
      results[t.name] = result;
      for (const line of t.print(result as never, ctx)) console.log(line);
    }
  } finally {
    dynamo?.client.destroy();
    await dynamo?.running.stop();
    mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'out', 'results.json'), JSON.stringify(results, null, 2));
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
