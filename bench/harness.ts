/**
 * The small harness every benchmark topic (`bench/<topic>.bench.ts`) runs in: one DynamoDB Local
 * for the run, a scratch directory, the shared clock and hasher, and the helpers that measure a
 * baseline in the same run. A topic returns what it measured (written to bench/out/results.json)
 * and prints its ratios.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import {
  BatchWriteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  DynamoDBClient,
  TransactWriteItemsCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { SecretHasher } from '../core/finding/identity';
import type { Clock } from '../core/shared/clock';
import { ensureTable } from '../core/store/ensure-table';
import { DynamoFindingStore } from '../core/store/dynamo-finding-store';
import { INDEXES, SingleTable } from '../core/store/table';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

export const ROOT = resolve(__dirname, '..');

/** What every topic gets. */
export interface BenchContext {
  /** Findings per ingest round (BENCH_FINDINGS). */
  n: number;
  /** JSON lines of the streaming and memory topics (BENCH_LINES). */
  lines: number;
  /** A scratch directory for generated reports. */
  dir: string;
  hasher: SecretHasher;
  clock: Clock;
  /** DynamoDB Local, started on first use and shared by every topic of the run. */
  dynamo(): Promise<{ client: DynamoDBClient; endpoint: string }>;
  /**
   * A DynamoDB Local of the topic's own, stopped after `fn`: for a ratio that must not depend on
   * what earlier topics left in the shared one (100,000 items make its transactions slower than
   * its batch writes, so a ratio of the two would depend on the order of the topics).
   */
  ownDynamo<T>(fn: (d: { client: DynamoDBClient; endpoint: string }) => Promise<T>): Promise<T>;
}

/** One benchmark topic. */
export interface BenchTopic<R = unknown> {
  /** Its name in BENCH_ONLY and in results.json. */
  name: string;
  run(ctx: BenchContext): Promise<R>;
  /** One line or a few per figure, each a ratio against its baseline where there is one. */
  print(result: R, ctx: BenchContext): string[];
}

/** A topic of any result type, as the runner holds them (each topic checks its own result type). */
export type AnyTopic = BenchTopic<never>;
/** A topic for the runner's list. */
export const topic = <R>(t: BenchTopic<R>): AnyTopic => t as unknown as AnyTopic;

/** Milliseconds `fn` takes. */
export async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** A number with `d` decimals. */
export const f = (x: number, d = 2) => x.toFixed(d);

/** The table `name` on the run's DynamoDB Local, created if missing, and its finding store. */
export async function freshTable(client: DynamoDBClient, name: string): Promise<DynamoFindingStore> {
  await ensureTable(client, name);
  return new DynamoFindingStore(new SingleTable(client, name));
}

/** Every item of a table, by Scan (benchmarks only: the product never scans). */
export async function scanAll(client: DynamoDBClient, table: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * The honest baseline of every write benchmark: BatchWriteItem of 25 items per call with
 * `streams` calls in flight (4 unless a topic says otherwise; 1 is the plain loop).
 */
export async function rawBatchWrite(
  client: DynamoDBClient,
  table: string,
  items: Record<string, AttributeValue>[],
  streams = 4,
): Promise<void> {
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
export async function rawTransactWrite(
  client: DynamoDBClient,
  table: string,
  items: Record<string, AttributeValue>[],
): Promise<void> {
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

/**
 * The ingest's own write protocol on the same items, raw: the finding items (carrying their
 * creation's events) as guarded TransactWriteItems, 100 per call and 8 in flight, each call followed
 * by BatchWriteItem of its findings' other items (their event pages), as core/store/event-pages.ts
 * writes a creation. The floor of what the ingest does, without its reads, merges or retries.
 */
export async function rawGuardedFindingsThenPages(
  client: DynamoDBClient,
  table: string,
  items: Record<string, AttributeValue>[],
): Promise<void> {
  const findings = items.filter((i) => i.type?.S === 'finding');
  const rest = new Map<string, Record<string, AttributeValue>[]>();
  for (const item of items) {
    if (item.type?.S === 'finding') continue;
    const pk = item.pk!.S!;
    rest.set(pk, [...(rest.get(pk) ?? []), item]);
  }
  const chunks: Record<string, AttributeValue>[][] = [];
  for (let i = 0; i < findings.length; i += 100) chunks.push(findings.slice(i, i + 100));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++]!;
      await client.send(
        new TransactWriteItemsCommand({
          TransactItems: chunk.map((Item) => ({
            Put: { TableName: table, Item, ConditionExpression: 'attribute_not_exists(pk)' },
          })),
        }),
      );
      await rawBatchWrite(
        client,
        table,
        chunk.flatMap((f) => rest.get(f.pk!.S!) ?? []),
      );
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const written = new Set(findings.map((f) => f.pk!.S!));
  await rawBatchWrite(
    client,
    table,
    [...rest].filter(([pk]) => !written.has(pk)).flatMap(([, its]) => its),
  );
}

/**
 * The same items by PutItem, one per call, without a condition, `inFlight` calls at once: how
 * DynamoDB Local runs a write that is not a batch. It takes the table's write lock for every
 * PutItem, UpdateItem and TransactWriteItems (its read lock only for BatchWriteItem), so these run
 * one at a time however many are in flight.
 */
export async function rawPutItems(
  client: DynamoDBClient,
  table: string,
  items: Record<string, AttributeValue>[],
  inFlight = 16,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await client.send(new PutItemCommand({ TableName: table, Item: items[next++]! }));
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** A Gitleaks report of `n` records, each with its own fake secret (a third of them AWS keys). */
export function gitleaksReport(n: number, seed: string): string {
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

/** A TruffleHog JSON-lines file of `n` unverified AWS detections, streamed to disk. */
export async function writeTrufflehogLines(path: string, n: number): Promise<void> {
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

/** DynamoDB request units a client consumed (on-demand: read and write request units). */
export interface Capacity {
  requests: number;
  readUnits: number;
  writeUnits: number;
}

/** Whether `client` is a DynamoDB document client (it wraps a DynamoDBClient's configuration). */
const isDocumentClient = (client: unknown) => (client as object)?.constructor?.name === 'DynamoDBDocumentClient';

/** DynamoDB's operations, by the names of the client's and the document client's commands. */
const READ_COMMANDS = new Set([
  'GetItem',
  'Get',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchGet',
  'TransactGetItems',
  'TransactGet',
]);
const WRITE_COMMANDS = new Set([
  'PutItem',
  'Put',
  'UpdateItem',
  'Update',
  'DeleteItem',
  'Delete',
  'BatchWriteItem',
  'BatchWrite',
  'TransactWriteItems',
  'TransactWrite',
]);

/** DynamoDB's size of an item (attribute names and values, its rules for numbers, lists and maps), in bytes. */
export function itemSize(item: Record<string, AttributeValue>): number {
  const value = (v: AttributeValue): number => {
    if (v.S !== undefined) return Buffer.byteLength(v.S);
    if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|e.*$/gi, '').replace(/^0+/, '').length / 2) + 1;
    if (v.B !== undefined) return v.B.length;
    if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
    if (v.L !== undefined) return 3 + v.L.reduce((n, e) => n + 1 + value(e), 0);
    if (v.M !== undefined)
      return 3 + Object.entries(v.M).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k) + value(e), 0);
    if (v.SS !== undefined) return v.SS.reduce((n, e) => n + Buffer.byteLength(e), 0);
    if (v.NS !== undefined) return v.NS.reduce((n, e) => n + Math.ceil(e.length / 2) + 1, 0);
    return 0;
  };
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + value(v), 0);
}

/**
 * AWS's write units of one item of a TransactWriteItems, from the item before and after: 2 per KB
 * of the larger (a transactional write is two writes), and 1 per KB for each index entry written
 * or removed (every index projects the whole item). DynamoDB Local does not follow this rule: it
 * reports about two units per KB of the transaction's largest item, whatever the number of items,
 * so five 500-byte items cost "2" instead of 10.
 */
export function transactionItemUnits(
  before: Record<string, AttributeValue> | undefined,
  after: Record<string, AttributeValue> | undefined,
): number {
  const kb = (item: Record<string, AttributeValue> | undefined) =>
    item ? Math.max(1, Math.ceil(itemSize(item) / 1024)) : 0;
  let units = 2 * Math.max(kb(before), kb(after), 1);
  for (const index of INDEXES) {
    const was = before?.[index.partitionKey]?.S;
    const is = after?.[index.partitionKey]?.S;
    const wasKey = was === undefined ? undefined : `${was}|${before?.[index.sortKey]?.S ?? ''}`;
    const isKey = is === undefined ? undefined : `${is}|${after?.[index.sortKey]?.S ?? ''}`;
    if (wasKey !== undefined && wasKey !== isKey) units += kb(before); // the old entry removed
    if (isKey !== undefined) units += kb(after); // the entry written (or rewritten)
  }
  return units;
}

/**
 * Counts the request units every DynamoDB call in this process consumes (every client and
 * document client: the CLI's hub opens its own), as on-demand mode bills them: DynamoDB Local's
 * ConsumedCapacity (TOTAL, table and indexes) for every request but TransactWriteItems, which is
 * counted by AWS's per-item rule from the items read before and after it (unmetered reads; see
 * transactionItemUnits). Patches the SDK's base client `send` while it runs; `stop` restores it.
 */
export function capacityMeter(): { used: Capacity; reset(): void; stop(): void } {
  const used: Capacity = { requests: 0, readUnits: 0, writeUnits: 0 };
  // The SDK's base Client: DynamoDBClient and DynamoDBDocumentClient both send through it.
  const proto = Object.getPrototypeOf(DynamoDBClient.prototype) as {
    send: (command: unknown, ...rest: unknown[]) => Promise<unknown>;
  };
  const send = proto.send;
  proto.send = async function (this: unknown, command: unknown, ...rest: unknown[]) {
    const name = (command as object).constructor.name.replace(/Command$/, '');
    const dynamo = this instanceof DynamoDBClient || isDocumentClient(this);
    const read = READ_COMMANDS.has(name);
    if (!dynamo || (!read && !WRITE_COMMANDS.has(name))) return send.call(this, command, ...rest);
    const input = (command as { input?: { ReturnConsumedCapacity?: string } }).input;
    if (input) input.ReturnConsumedCapacity ??= 'TOTAL';
    else throw new Error(`capacity meter: ${name} has no input`);
    if (name === 'TransactWriteItems' || name === 'TransactWrite') {
      const keysOf = transactionKeys(command as TransactCommand, isDocumentClient(this));
      const readAll = () => Promise.all(keysOf.map((k) => readRaw(this, send, k)));
      const before = await readAll();
      let failed: unknown;
      const out = await send.call(this, command, ...rest).catch((err: unknown) => (failed = err));
      const after = failed ? before : await readAll();
      used.requests++;
      used.writeUnits += keysOf.reduce((sum, _k, i) => sum + transactionItemUnits(before[i], after[i]), 0);
      if (failed) throw failed;
      return out;
    }
    const out = (await send.call(this, command, ...rest)) as { ConsumedCapacity?: unknown };
    const consumed = out?.ConsumedCapacity;
    const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce(
      (sum: number, c: { CapacityUnits?: number }) => sum + (c.CapacityUnits ?? 0),
      0,
    );
    used.requests++;
    // DynamoDB Local reports 0 for a read that returns nothing; DynamoDB bills at least 0.5 RRU
    // (1 strongly consistent) per read request.
    const consistent = (input as { ConsistentRead?: boolean } | undefined)?.ConsistentRead === true;
    if (read) used.readUnits += Math.max(units, consistent ? 1 : 0.5);
    else used.writeUnits += units;
    return out;
  };
  return {
    used,
    reset() {
      Object.assign(used, { requests: 0, readUnits: 0, writeUnits: 0 });
    },
    stop() {
      proto.send = send;
    },
  };
}

type TransactCommand = {
  input: {
    TransactItems?: Array<
      Record<string, { TableName?: string; Key?: Record<string, unknown>; Item?: Record<string, unknown> }>
    >;
  };
};
interface RawKey {
  table: string;
  key: Record<string, AttributeValue>;
}

/** The table and (marshalled) key of every item of a transaction. */
function transactionKeys(command: TransactCommand, document: boolean): RawKey[] {
  return (command.input.TransactItems ?? []).map((entry) => {
    const op = Object.values(entry)[0]!;
    const source = (op.Key ?? { pk: op.Item!.pk, sk: op.Item!.sk }) as Record<string, unknown>;
    const key = document
      ? marshall(source, { removeUndefinedValues: true })
      : (source as Record<string, AttributeValue>);
    return { table: op.TableName!, key: { pk: key.pk!, sk: key.sk! } };
  });
}

/** An item as stored (marshalled), read with the unpatched `send` so that it is not counted. */
async function readRaw(
  client: unknown,
  send: (command: unknown, ...rest: unknown[]) => Promise<unknown>,
  { table, key }: RawKey,
): Promise<Record<string, AttributeValue> | undefined> {
  if (isDocumentClient(client)) {
    const out = (await send.call(
      client,
      new GetCommand({ TableName: table, Key: unmarshall(key), ConsistentRead: true }),
    )) as {
      Item?: Record<string, unknown>;
    };
    return out.Item ? marshall(out.Item, { removeUndefinedValues: true }) : undefined;
  }
  const out = (await send.call(client, new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))) as {
    Item?: Record<string, AttributeValue>;
  };
  return out.Item;
}
