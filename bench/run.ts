/**
 * closeloop benchmarks: every figure is a ratio against a baseline measured in the same run.
 * `npm run bench` (BENCH_FINDINGS=… to change the size). Prints a table and writes
 * bench/out/results.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  BatchWriteItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { fixedClock } from '../core/shared/clock';
import { SecretHasher } from '../core/finding/identity';
import { DynamoFindingStore, toExpiredExceptionItem, toFindingItem } from '../core/store/dynamo-finding-store';
import { SingleTable } from '../core/store/table';
import { expiredExceptionRecord } from '../core/finding/history';
import { DynamoReportSource } from '../core/store/dynamo-report-source';
import { computeReport, type ReportKind, type ReportOptions } from '../core/reports/reports';
import type { Finding } from '../core/finding/model';
import { marshall } from '@aws-sdk/util-dynamodb';
import { ensureTable } from '../core/store/ensure-table';
import { ingestReportFiles } from '../connectors/sources/ingest-reports';
import { openReport } from '../connectors/sources/read-report';
import { localClient, startDynamoDbLocal } from '../local/dynamodb-local';
import { LocalLifecycleRunner } from '../local/lifecycle-runner';
import { DEFAULT_POLICY } from '../core/policy/policy';
import type { RemediationPort } from '../core/lifecycle/ports';
import { LocalRotationRunner } from '../local/rotation-runner';
import { aRotationWorld } from '../test/support/rotation';
import { aGitleaksRecord } from '../test/support/factories';
import { benchParseFormats } from './parse-formats';
import { benchAudit } from './audit';
import { benchTickets, describeTickets, type TicketsBench } from './tickets.bench';

const N = Number(process.env.BENCH_FINDINGS ?? 5000);
const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const ROOT = resolve(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'closeloop-bench-'));
const hasher = new SecretHasher(randomBytes(32));
const clock = fixedClock('2026-11-01T00:00:00.000Z');
const results: Record<string, unknown> = {};

function gitleaksReport(n: number, seed: string): string {
  const records = Array.from({ length: n }, (_, i) => {
    const secret = `closeloop_bench_FAKE_${seed}_${i}_${randomBytes(8).toString('hex')}`;
    return {
      RuleID: i % 3 === 0 ? 'aws-access-token' : 'generic-api-key',
      Description: 'Generic API Key',
      StartLine: (i % 400) + 1,
      EndLine: (i % 400) + 1,
      StartColumn: 1,
      EndColumn: 60,
      Match: `KEY=${secret}`,
      Secret: secret,
      File: `services/svc-${i % 50}/config-${i}.env`,
      SymlinkFile: '',
      Commit: randomBytes(20).toString('hex'),
      Link: `https://github.com/acme/repo-${i % 20}/blob/main/services/svc-${i % 50}/config-${i}.env#L1`,
      Entropy: 4.2,
      Author: 'bench',
      Email: 'bench@acme.example',
      Date: '2026-10-01T00:00:00Z',
      Message: 'bench',
      Tags: [],
      Fingerprint: `${seed}:${i}`,
    };
  });
  return JSON.stringify(records, null, 1);
}

async function writeTrufflehogLines(path: string, n: number) {
  const out = createWriteStream(path);
  for (let i = 0; i < n; i++) {
    const raw = Buffer.from(`closeloop_bench_FAKE_${i}_${randomBytes(6).toString('hex')}`).toString('base64');
    const line = JSON.stringify({
      SourceMetadata: {
        Data: {
          Git: { commit: 'c0ffee', file: `f${i}.env`, repository: 'https://github.com/acme/bench.git', line: 1 },
        },
      },
      SourceID: 1,
      SourceType: 16,
      SourceName: 'trufflehog - git',
      DetectorType: 2,
      DetectorName: 'AWS',
      Verified: false,
      Raw: raw,
      Redacted: '',
      ExtraData: null,
      StructuredData: null,
    });
    if (!out.write(`${line}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

const time = async (fn: () => Promise<unknown>) => {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function freshTable(client: DynamoDBClient, name: string) {
  await ensureTable(client, name);
  return new DynamoFindingStore(new SingleTable(client, name));
}

async function scanAll(client: DynamoDBClient, table: string) {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** BatchWriteItem of 25 items per call, `streams` calls in flight (1 = the plain loop). */
async function rawBatchWrite(
  client: DynamoDBClient,
  table: string,
  items: Record<string, AttributeValue>[],
  streams = 1,
) {
  const chunks: Record<string, AttributeValue>[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      let pending = chunks[next++]!.map((Item) => ({ PutRequest: { Item } }));
      while (pending.length > 0) {
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        pending = (out.UnprocessedItems?.[table] as typeof pending | undefined) ?? [];
      }
    }
  };
  await Promise.all(Array.from({ length: streams }, worker));
}

/** The same items as guarded transactions (100 per call, attribute_not_exists): the write protocol's own floor. */
async function rawTransactWrite(client: DynamoDBClient, table: string, items: Record<string, AttributeValue>[]) {
  for (let i = 0; i < items.length; i += 100) {
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: items
          .slice(i, i + 100)
          .map((Item) => ({ Put: { TableName: table, Item, ConditionExpression: 'attribute_not_exists(pk)' } })),
      }),
    );
  }
}

async function benchIngest(client: DynamoDBClient) {
  const rounds = 3;
  const ingest: number[] = [];
  const reingest: number[] = [];
  const raw: number[] = [];
  const rawParallel: number[] = [];
  const rawTransact: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const file = join(dir, `gitleaks-${r}.json`);
    writeFileSync(file, gitleaksReport(N, `r${r}`));
    const table = `bench-ingest-${r}`;
    const store = await freshTable(client, table);
    ingest.push(await time(() => ingestReportFiles([file], { store, clock, hasher })));
    reingest.push(await time(() => ingestReportFiles([file], { store, clock, hasher })));
    // Baseline: the very items the ingest wrote (findings + audit events), raw BatchWriteItem.
    const items = await scanAll(client, table);
    const rawTable = `bench-raw-${r}`;
    await ensureTable(client, rawTable);
    raw.push(await time(() => rawBatchWrite(client, rawTable, items)));
    const rawParallelTable = `bench-raw-parallel-${r}`;
    await ensureTable(client, rawParallelTable);
    rawParallel.push(await time(() => rawBatchWrite(client, rawParallelTable, items, 4)));
    const rawTransactTable = `bench-raw-transact-${r}`;
    await ensureTable(client, rawTransactTable);
    rawTransact.push(await time(() => rawTransactWrite(client, rawTransactTable, items)));
    results[`items_written_round_${r}`] = items.length;
  }
  const tIngest = median(ingest);
  const tRaw = median(raw);
  const tRe = median(reingest);
  const tRawParallel = median(rawParallel);
  results.ingest = {
    findings: N,
    ingestMs: tIngest,
    rawBatchWriteMs: tRaw,
    ratioVsRawBatchWrite: tIngest / tRaw,
    rawBatchWrite4StreamsMs: tRawParallel,
    ratioVsRawBatchWrite4Streams: tIngest / tRawParallel,
    rawTransactWriteMs: median(rawTransact),
    transactionFloorVsRawBatchWrite: median(rawTransact) / tRaw,
    ratioVsRawTransactWrite: tIngest / median(rawTransact),
    target: 1.3,
    findingsPerSecond: (N / tIngest) * 1000,
    defectDojoReferencePerSecond: 50,
  };
  results.reingest = { reingestMs: tRe, ratioVsFirstIngest: tRe / tIngest, target: 0.5 };
}

/** Steps through a report's outcomes the way ingestRecords does: a document synchronously, lines with for-await. */
async function drain(records: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
  if (Symbol.asyncIterator in records) for await (const outcome of records) void outcome;
  else for (const outcome of records) void outcome;
}

async function benchParse() {
  const file = join(dir, 'parse.json');
  writeFileSync(file, gitleaksReport(N, 'parse'));
  const ctx = { hasher, receivedAt: clock.now().toISOString() };
  const parse: number[] = [];
  const normalise: number[] = [];
  for (let r = 0; r < 12; r++) {
    // The first rounds warm the JIT for the TypeScript path (JSON.parse is native); they are dropped.
    if (r < 3) {
      JSON.parse(readFileSync(file, 'utf8'));
      const warm = await openReport(file, { ctx });
      await drain(warm.records);
      continue;
    }
    // Three passes per timing, so each side pays for most of its own garbage collection
    // rather than for what the other left behind.
    parse.push(
      (await time(async () => {
        for (let k = 0; k < 3; k++) JSON.parse(readFileSync(file, 'utf8'));
      })) / 3,
    );
    normalise.push(
      (await time(async () => {
        for (let k = 0; k < 3; k++) {
          const report = await openReport(file, { ctx });
          await drain(report.records);
        }
      })) / 3,
    );
  }
  results.parse = {
    records: N,
    jsonParseMs: median(parse),
    parseAndNormaliseMs: median(normalise),
    ratioVsJsonParse: median(normalise) / median(parse),
    target: 3,
  };
}

/** Peak RSS of streaming a JSON-lines file, in a child process so each size starts clean. */
function streamRss(path: string): { peakRssMb: number; ms: number } {
  const script = `
    const { register } = require('tsx/cjs/api'); register();
    const { openReport } = require(${JSON.stringify(join(ROOT, 'connectors/sources/read-report.ts'))});
    const { SecretHasher } = require(${JSON.stringify(join(ROOT, 'core/finding/identity.ts'))});
    (async () => {
      const t0 = Date.now(); let peak = 0; let n = 0;
      const report = await openReport(${JSON.stringify(path)}, { ctx: { hasher: new SecretHasher(Buffer.alloc(32, 1)), receivedAt: new Date().toISOString() } });
      for await (const o of report.records) { if (++n % 1000 === 0) peak = Math.max(peak, process.memoryUsage().rss); }
      peak = Math.max(peak, process.memoryUsage().rss);
      process.stdout.write(JSON.stringify({ peakRssMb: peak / 1048576, ms: Date.now() - t0, n }));
    })();`;
  const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: ROOT });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout) as { peakRssMb: number; ms: number };
}

/** Peak RSS of ingesting a JSON-lines file into DynamoDB, in a child process. */
function ingestRss(path: string, endpoint: string, table: string): { peakRssMb: number; ms: number; created: number } {
  const script = `
    const { register } = require('tsx/cjs/api'); register();
    const { ingestReportFiles } = require(${JSON.stringify(join(ROOT, 'connectors/sources/ingest-reports.ts'))});
    const { SecretHasher } = require(${JSON.stringify(join(ROOT, 'core/finding/identity.ts'))});
    const { DynamoFindingStore } = require(${JSON.stringify(join(ROOT, 'core/store/dynamo-finding-store.ts'))});
    const { SingleTable } = require(${JSON.stringify(join(ROOT, 'core/store/table.ts'))});
    const { ensureTable } = require(${JSON.stringify(join(ROOT, 'core/store/ensure-table.ts'))});
    const { localClient } = require(${JSON.stringify(join(ROOT, 'local/dynamodb-local.ts'))});
    const { systemClock } = require(${JSON.stringify(join(ROOT, 'core/shared/clock.ts'))});
    (async () => {
      const client = localClient(${JSON.stringify(endpoint)});
      await ensureTable(client, ${JSON.stringify(table)});
      const store = new DynamoFindingStore(new SingleTable(client, ${JSON.stringify(table)}));
      let peak = 0; const t0 = Date.now();
      const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
      const { total } = await ingestReportFiles([${JSON.stringify(path)}], { store, clock: systemClock, hasher: new SecretHasher(Buffer.alloc(32, 1)) });
      clearInterval(timer); peak = Math.max(peak, process.memoryUsage().rss); client.destroy();
      process.stdout.write(JSON.stringify({ peakRssMb: peak / 1048576, ms: Date.now() - t0, created: total.created }));
    })();`;
  const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 20 });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout) as { peakRssMb: number; ms: number; created: number };
}

async function benchIngestMemory(endpoint: string) {
  const small = join(dir, 'ingest-small.jsonl');
  const large = join(dir, 'ingest-large.jsonl');
  await writeTrufflehogLines(small, LINES / 10);
  await writeTrufflehogLines(large, LINES);
  const a = ingestRss(small, endpoint, 'bench-mem-small');
  const b = ingestRss(large, endpoint, 'bench-mem-large');
  results.ingestMemory = {
    smallLines: LINES / 10,
    largeLines: LINES,
    smallPeakRssMb: a.peakRssMb,
    largePeakRssMb: b.peakRssMb,
    rssRatioLargeVsSmall: b.peakRssMb / a.peakRssMb,
    largeCreated: b.created,
    largeMs: b.ms,
    findingsPerSecond: (b.created / b.ms) * 1000,
  };
}

async function benchStreaming() {
  const small = join(dir, 'small.jsonl');
  const large = join(dir, 'large.jsonl');
  await writeTrufflehogLines(small, LINES / 10);
  await writeTrufflehogLines(large, LINES);
  const a = streamRss(small);
  const b = streamRss(large);
  results.streaming = {
    smallLines: LINES / 10,
    largeLines: LINES,
    largeFileMb: statSync(large).size / 1048576,
    smallPeakRssMb: a.peakRssMb,
    largePeakRssMb: b.peakRssMb,
    rssRatioLargeVsSmall: b.peakRssMb / a.peakRssMb,
    largeMs: b.ms,
    linesPerSecond: (LINES / b.ms) * 1000,
  };
}

/**
 * State transitions per lifecycle path, on the real step handlers and DynamoDB Local, with the
 * real rotation machine against the stateful Secrets Manager / IAM / STS fakes (the rotation is
 * its own execution on AWS, so its transitions are reported separately).
 */
async function benchLifecycle(client: DynamoDBClient) {
  const world = aRotationWorld();
  try {
    const users = ['bench-a', 'bench-b', 'bench-c'].map((u) => world.managedIamUser(u));
    const file = join(dir, 'lifecycle.json');
    writeFileSync(
      file,
      JSON.stringify(
        users.map((u, i) =>
          aGitleaksRecord({
            RuleID: 'aws-access-token',
            Secret: u.key.AccessKeyId,
            Match: `key=${u.key.AccessKeyId}`,
            StartLine: 10 + i,
            Fingerprint: `bench:${i}`,
          }),
        ),
      ),
    );
    const store = await freshTable(client, 'bench-lifecycle');
    await ingestReportFiles([file], { store, clock, hasher: world.hasher });
    const [a, b, c] = await store.list();
    const autoPolicy = {
      ...DEFAULT_POLICY,
      preAuthorized: [
        {
          action: 'rotate' as const,
          nhiTypes: ['cloud_access_key' as const],
          severities: ['critical' as const, 'high' as const, 'medium' as const, 'low' as const, 'info' as const],
          onlyWhenActive: false,
        },
      ],
    };
    const ownerPolicy = { ...DEFAULT_POLICY, preAuthorized: [] };
    const rotationPaths: string[][] = [];
    const remediationFor = (policy: typeof DEFAULT_POLICY): RemediationPort => {
      const rotations = new LocalRotationRunner({ store, clock, policy, control: world.control });
      return {
        remediate: async (request) => {
          const run = await rotations.run(request);
          rotationPaths.push(run.path);
          return run.outcome;
        },
      };
    };
    const autoRunner = new LocalLifecycleRunner({
      store,
      clock,
      policy: autoPolicy,
      remediation: remediationFor(autoPolicy),
    });
    const auto = await autoRunner.start(a!);
    const autoRotation = rotationPaths.at(-1) ?? [];
    const ownerRunner = new LocalLifecycleRunner({
      store,
      clock,
      policy: ownerPolicy,
      remediation: remediationFor(ownerPolicy),
    });
    const first = await ownerRunner.start(b!);
    const approved = await ownerRunner.resume((await store.get(b!.id))!, 'approval_decided', {
      signal: { decision: 'approved', by: 'bench' },
    });
    const duplicate = await autoRunner.start((await store.get(a!.id))!);
    const approval = await ownerRunner.start(c!);
    results.lifecycle = {
      autoRemediationTransitions: auto!.path.length,
      autoRemediationPath: auto!.path.join(' > '),
      autoRemediationStatus: (await store.get(a!.id))!.status,
      rotationMachineTransitions: autoRotation.length,
      rotationMachinePath: autoRotation.join(' > '),
      approvalThenRemediationTransitions: (first?.path.length ?? 0) + approved.path.length,
      approvalRequestTransitions: approval?.path.length,
      duplicateStartStartedExecution: duplicate !== undefined,
      target: 16,
    };
  } finally {
    world.restore();
  }
}

/**
 * Reports over REPORT_FINDINGS (100,000) findings seeded into DynamoDB Local: for each report the
 * DynamoDB requests, read units and time, against a full Scan of the same table measured in the
 * same run (target ≤ 0.1× for owner- or expiry-scoped reports).
 */
async function benchReports(client: DynamoDBClient) {
  const n = Number(process.env.BENCH_REPORT_FINDINGS ?? 100_000);
  const table = 'bench-reports';
  await ensureTable(client, table);
  const now = Date.parse('2026-11-20T12:00:00.000Z');
  const day = 86_400_000;
  const at = (d: number) => new Date(now + d * day).toISOString();
  const owners = Array.from({ length: 50 }, (_, i) => `team-${i}`);
  const items: Record<string, AttributeValue>[] = [];
  for (let i = 0; i < n; i++) {
    const r = i % 100;
    const status =
      r < 60
        ? 'open'
        : r < 65
          ? 'awaiting_approval'
          : r < 85
            ? 'resolved'
            : r < 90
              ? 'false_positive'
              : r < 95
                ? 'risk_accepted'
                : 'reopened';
    const owner = r % 50 === 49 ? 'identity-programme' : owners[i % owners.length]!;
    const severity = (['critical', 'high', 'medium', 'low'] as const)[i % 4]!;
    const firstSeen = at(-((i % 300) + 1));
    const id = `NHI-${i.toString(16).toUpperCase().padStart(16, '0')}`;
    const exceptionUntil = at((i % 120) + 1);
    const finding: Finding = {
      id,
      fingerprint: `bench:${i}`,
      title: `bench finding ${i}`,
      nhiType: 'api_key',
      detector: 'bench',
      severity,
      validity: 'active',
      publiclyExposed: false,
      asset: { type: 'repository', id: `github.com/acme/repo-${i % 500}` },
      locations: [],
      locationsNotListed: 0,
      sources: [
        {
          scanner: 'gitleaks',
          scannerId: `s${i}`,
          ruleId: 'generic-api-key',
          firstReportedAt: firstSeen,
          state: 'open',
        },
      ],
      owaspNhi: ['NHI2'],
      nistCsf: ['ID.RA-01', 'PR.AA-01'],
      owner,
      ownerVia: owner === 'identity-programme' ? 'unowned_queue' : 'mapping',
      dueAt: at((i % 60) - 20),
      generation: 1,
      evidence: [],
      status,
      firstSeen,
      lastSeen: firstSeen,
      version: 1,
      eventCount: 0,
      lastEventHash: '0'.repeat(64),
      ...(status === 'resolved' || status === 'false_positive' ? { closedAt: at(-(i % 20)) } : {}),
      ...(status === 'risk_accepted'
        ? {
            exception: {
              requestedBy: owner,
              requestedAt: at(-10),
              until: exceptionUntil,
              reason: 'bench',
              approvedBy: 'alice',
              approvedAt: at(-9),
            },
            lifecycle: {
              startedGeneration: 1,
              waitingAt: 'ExceptionWait',
              timerAt: exceptionUntil,
              timerKind: 'exception_expiry' as const,
            },
          }
        : {}),
      ...(status === 'reopened'
        ? {
            expiredException: {
              requestedBy: owner,
              requestedAt: at(-100),
              until: at(-5),
              reason: 'bench',
              approvedBy: 'alice',
              expiredAt: at(-5),
            },
          }
        : {}),
    };
    items.push(marshall(toFindingItem(finding), { removeUndefinedValues: true }));
    // What the lifecycle's reopen step writes with the transition: the expired exception's history item.
    if (status === 'reopened')
      items.push(
        marshall(toExpiredExceptionItem(expiredExceptionRecord(finding, finding.expiredException!)), {
          removeUndefinedValues: true,
        }),
      );
  }
  const seedStart = performance.now();
  await rawBatchWrite(client, table, items, 4);
  const seedMs = performance.now() - seedStart;
  items.length = 0;

  // The baseline: every item of the table, read with a Scan.
  const scanStart = performance.now();
  let scanRequests = 0;
  let scanUnits = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: start, ReturnConsumedCapacity: 'TOTAL' }),
    );
    scanRequests++;
    scanUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  const scanMs = performance.now() - scanStart;

  const runs: Array<{ name: string; scoped: boolean; kind: ReportKind; options: Partial<ReportOptions> }> = [
    { name: 'sla --owner team-7', scoped: true, kind: 'sla', options: { owner: 'team-7' } },
    { name: 'ownership --owner team-7', scoped: true, kind: 'ownership', options: { owner: 'team-7' } },
    { name: 'exceptions', scoped: true, kind: 'exceptions', options: {} },
    { name: 'exceptions --owner team-7', scoped: true, kind: 'exceptions', options: { owner: 'team-7' } },
    { name: 'standards --owner team-7', scoped: true, kind: 'standards', options: { owner: 'team-7' } },
    { name: 'rotation --owner team-7', scoped: true, kind: 'rotation', options: { owner: 'team-7' } },
    { name: 'audit --finding', scoped: true, kind: 'audit', options: { findingId: 'NHI-0000000000000007' } },
    { name: 'sla', scoped: false, kind: 'sla', options: {} },
    { name: 'ownership', scoped: false, kind: 'ownership', options: {} },
    { name: 'rotation', scoped: false, kind: 'rotation', options: {} },
    { name: 'standards', scoped: false, kind: 'standards', options: {} },
  ];
  const reports: Array<Record<string, unknown>> = [];
  for (const r of runs) {
    const source = new DynamoReportSource(new SingleTable(client, table));
    const t = performance.now();
    const report = await computeReport(r.kind, source, { now: new Date(now), policy: DEFAULT_POLICY, ...r.options });
    const ms = performance.now() - t;
    const reads = report.reads!;
    reports.push({
      report: r.name,
      scoped: r.scoped,
      requests: reads.requests,
      readUnits: reads.readUnits,
      ms,
      unitsVsScan: reads.readUnits / scanUnits,
      timeVsScan: ms / scanMs,
      mainRows: report.sections[0]!.rows.length,
    });
  }
  results.reports = {
    findings: n,
    seedMs,
    scan: { requests: scanRequests, readUnits: scanUnits, ms: scanMs },
    reports,
    target: 0.1,
  };
}

async function benchBundles() {
  const entries = [
    'functions/ingest-s3-report.ts',
    'functions/ingest-securityhub-event.ts',
    'functions/report-api.ts',
    'functions/report-export.ts',
    'functions/secret-rotation.ts',
    'functions/rotation-step.ts',
    'functions/rotation-events.ts',
    'functions/credential-hygiene.ts',
  ];
  const out: Record<string, unknown> = {};
  for (const entry of entries) {
    const outfile = join(dir, 'bundles', `${entry.split('/').pop()!.replace('.ts', '.js')}`);
    await build({
      entryPoints: [join(ROOT, entry)],
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      external: ['@aws-sdk/*'],
      outfile,
      tsconfig: join(ROOT, 'tsconfig.json'),
      logLevel: 'silent',
    });
    const init = spawnSync(
      process.execPath,
      [
        '-e',
        `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`,
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          CLOSELOOP_TABLE: 'bench',
          CLOSELOOP_DEPLOYMENT_KEY_SECRET: 'arn:aws:secretsmanager:us-east-1:1:secret:x',
          CLOSELOOP_EXPORT_BUCKET: 'bench-exports',
          CLOSELOOP_REPORT_EXPORT_FUNCTION: 'bench-export',
          CLOSELOOP_ROTATION_STATE_MACHINE: 'arn:aws:states:us-east-1:1:stateMachine:bench-rotation',
          AWS_REGION: 'us-east-1',
          NODE_PATH: join(ROOT, 'node_modules'),
        },
      },
    );
    const baseline = spawnSync(
      process.execPath,
      [
        '-e',
        `const t=process.hrtime.bigint();require('@aws-sdk/client-dynamodb');process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`,
      ],
      { encoding: 'utf8', cwd: ROOT },
    );
    out[entry] = {
      bundleKb: statSync(outfile).size / 1024,
      moduleInitMs: Number(init.stdout),
      sdkClientRequireMs: Number(baseline.stdout),
      initVsSdkRequire: Number(init.stdout) / Number(baseline.stdout),
      initError: init.status === 0 ? undefined : init.stderr.split('\n')[0],
    };
  }
  results.bundles = out;
}

async function main() {
  console.log(
    `closeloop bench: ${N} findings per ingest round, ${LINES} JSON lines streamed; DynamoDB Local starting…`,
  );
  const dynamo = await startDynamoDbLocal();
  const client = localClient(dynamo.endpoint);
  try {
    // BENCH_ONLY=jira,lifecycle runs a subset (the printout skips what did not run).
    const only = new Set((process.env.BENCH_ONLY ?? '').split(',').filter(Boolean));
    const run = (name: string) => only.size === 0 || only.has(name);
    if (run('ingest')) await benchIngest(client);
    if (run('parse')) await benchParse();
    if (run('parse'))
      results.parseFormats = await benchParseFormats({
        dir,
        ctx: { hasher, receivedAt: clock.now().toISOString() },
        records: N,
      });
    if (run('streaming')) await benchStreaming();
    if (run('memory')) await benchIngestMemory(dynamo.endpoint);
    if (run('lifecycle')) await benchLifecycle(client);
    if (run('jira')) results.jira = await benchTickets(client);
    if (run('bundles')) await benchBundles();
    if (run('reports')) await benchReports(client);
    if (run('audit')) results.audit = await benchAudit(client, Number(process.env.BENCH_AUDIT_FINDINGS ?? N));
  } finally {
    client.destroy();
    await dynamo.stop();
  }
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', 'results.json'), JSON.stringify(results, null, 2));
  const f = (x: number, d = 2) => x.toFixed(d);
  console.log('');
  const ing = results.ingest as Record<string, number> | undefined;
  const re = results.reingest as Record<string, number> | undefined;
  if (ing && re) {
    console.log(
      `ingest of ${N} new findings     ${f(ing.ingestMs!, 0)} ms vs raw BatchWriteItem of the same items ${f(ing.rawBatchWriteMs!, 0)} ms → ${f(ing.ratioVsRawBatchWrite!)}× (target ≤ 1.3×); vs 4 concurrent BatchWriteItem streams ${f(ing.rawBatchWrite4StreamsMs!, 0)} ms → ${f(ing.ratioVsRawBatchWrite4Streams!)}×; ${f(ing.findingsPerSecond!, 0)} findings/s (DefectDojo ≈ 50/s)`,
    );
    console.log(
      `  of which the write protocol: raw TransactWriteItems of the same items ${f(ing.rawTransactWriteMs!, 0)} ms = ${f(ing.transactionFloorVsRawBatchWrite!)}× raw BatchWriteItem; ingest is ${f(ing.ratioVsRawTransactWrite!)}× that floor`,
    );
    console.log(
      `re-ingest of the same report     ${f(re.reingestMs!, 0)} ms → ${f(re.ratioVsFirstIngest!)}× the first ingest (target ≤ 0.5×)`,
    );
  }
  const pa = results.parse as Record<string, number> | undefined;
  if (pa)
    console.log(
      `parse + normalise               ${f(pa.parseAndNormaliseMs!, 1)} ms vs JSON.parse ${f(pa.jsonParseMs!, 1)} ms → ${f(pa.ratioVsJsonParse!)}× (target ≤ 3×)`,
    );
  const st = results.streaming as Record<string, number> | undefined;
  if (st)
    console.log(
      `streaming ${st.largeLines} JSON lines (${f(st.largeFileMb!, 0)} MB) peak RSS ${f(st.largePeakRssMb!, 0)} MB vs ${st.smallLines} lines ${f(st.smallPeakRssMb!, 0)} MB → ${f(st.rssRatioLargeVsSmall!)}× for 10× the data; ${f(st.linesPerSecond!, 0)} lines/s`,
    );
  const lc = results.lifecycle as Record<string, number | string | boolean> | undefined;
  if (lc) {
    console.log(
      `lifecycle: happy path (auto-remediation) ${lc.autoRemediationTransitions} state transitions (target ≤ 16), finding ${lc.autoRemediationStatus}: ${lc.autoRemediationPath}`,
    );
    console.log(
      `lifecycle: its rotation execution ${lc.rotationMachineTransitions} transitions (locally no grace/deletion wait): ${lc.rotationMachinePath}`,
    );
    console.log(
      `lifecycle: approval then remediation ${lc.approvalThenRemediationTransitions} transitions over two executions; a duplicate start started an execution: ${lc.duplicateStartStartedExecution}`,
    );
  }
  const rp = results.reports as
    | {
        findings: number;
        seedMs: number;
        scan: { requests: number; readUnits: number; ms: number };
        reports: Array<Record<string, number | string | boolean>>;
      }
    | undefined;
  if (rp) {
    console.log(
      `reports over ${rp.findings} findings (seeded in ${f(rp.seedMs / 1000, 0)} s); baseline full Scan: ${rp.scan.requests} requests, ${f(rp.scan.readUnits, 0)} read units, ${f(rp.scan.ms, 0)} ms`,
    );
    for (const r of rp.reports) {
      console.log(
        `  report ${String(r.report).padEnd(26)} ${String(r.requests).padStart(4)} requests ${f(Number(r.readUnits), 0).padStart(7)} RCU ${f(Number(r.ms), 0).padStart(6)} ms → ${f(Number(r.unitsVsScan), 3)}× the Scan's read units, ${f(Number(r.timeVsScan), 3)}× its time${r.scoped ? ' (scoped: target ≤ 0.1×)' : ''}`,
      );
    }
  }
  if (results.jira) console.log(describeTickets(results.jira as TicketsBench));
  const im = results.ingestMemory as Record<string, number> | undefined;
  if (im)
    console.log(
      `ingest of ${im.largeLines} JSON lines into DynamoDB Local: peak RSS ${f(im.largePeakRssMb!, 0)} MB vs ${im.smallLines} lines ${f(im.smallPeakRssMb!, 0)} MB → ${f(im.rssRatioLargeVsSmall!)}× for 10× the data; ${f(im.findingsPerSecond!, 0)} findings/s`,
    );
  for (const [entry, b] of Object.entries(
    (results.bundles ?? {}) as Record<string, Record<string, number> & { initError?: string }>,
  )) {
    if (b.initError)
      console.log(`bundle ${entry}: ${f(b.bundleKb!, 0)} KB minified, module init FAILED: ${b.initError}`);
    else
      console.log(
        `bundle ${entry}: ${f(b.bundleKb!, 0)} KB minified, module init ${f(b.moduleInitMs!, 0)} ms (${f(b.initVsSdkRequire!)}× requiring the DynamoDB client alone)`,
      );
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
