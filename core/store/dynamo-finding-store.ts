import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { AuditEventSchema, type AuditEvent } from '../audit/chain';
import { backoffDelayMs, sleep } from '../shared/backoff';
import { CloseloopError } from '../shared/errors';
import {
  FINDING_STATUSES,
  FindingSchema,
  isClosed,
  isOpenWork,
  type Finding,
  type FindingStatus,
} from '../finding/model';
import type { FindingStore, FindingWrite, QuarantineEntry } from '../finding/ports';
import type { CursorStore } from '../ingest/ports';
import { severityRank } from '../finding/standards';
import { ticketWorkFor } from '../tickets/outbox';
import { exceptionHistoryFor } from './exception-history';
import { toWorkItem } from './ticket-items';

/** DynamoDB said no after every retry. */
export class StoreUnavailableError extends CloseloopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

const FINDING_SK = '#FINDING';
const TIMER_PARTITION = 'TIMER';

/**
 * Audit events are listed by day through byTimer, in EVENT_DAY_SHARDS partitions per day
 * (`EVENTDAY#<YYYY-MM-DD>#<shard>`, the shard from the finding id; sorted by time within each):
 * the auditor's "what happened in this period / by this actor" without a Scan. One partition
 * per day would take every event of a large ingest, with time-ordered sort keys that DynamoDB
 * cannot split, and its write limit would throttle the table; the shards spread that load.
 */
export const EVENT_DAY_SHARDS = 8;
export const eventDayPartition = (day: string, shard: number) => `EVENTDAY#${day}#${shard}`;
/** The shard of a finding's (or managed secret's) events: FNV-1a of its id. */
export function eventDayShard(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return hash % EVENT_DAY_SHARDS;
}
export function eventIndexKeys(event: { at: string; findingId: string; seq: number }) {
  return {
    gsi4pk: eventDayPartition(event.at.slice(0, 10), eventDayShard(event.findingId)),
    gsi4sk: `${event.at}#${event.findingId}#${String(event.seq).padStart(10, '0')}`,
  };
}
const MAX_BATCH_GET = 100;
const MAX_BATCH_WRITE = 25;
/** TransactWriteItems takes at most 100 items per call. */
const MAX_TRANSACTION_ITEMS = 100;
const MAX_UNPROCESSED_RETRIES = 8;
/** Transactions of one ingest round in flight at once. */
const MAX_CONCURRENT_TRANSACTIONS = 4;

/** Items one finding write puts into a transaction: head, events, aliases, ticket work, exception history. */
const itemCount = (write: FindingWrite) =>
  1 +
  write.events.length +
  write.aliases.length +
  ticketWorkFor(write.events).length +
  exceptionHistoryFor(write).length;

const findingKey = (id: string) => ({ pk: `FINDING#${id}`, sk: FINDING_SK });
const eventSk = (seq: number) => `EVENT#${String(seq).padStart(10, '0')}`;

/** The finding item with its index keys. Sparse indexes get their keys only when they apply. */
export function toFindingItem(finding: Finding): Record<string, unknown> {
  const due = finding.dueAt ?? '9999-12-31T00:00:00.000Z';
  const item: Record<string, unknown> = {
    ...findingKey(finding.id),
    type: 'finding',
    ...finding,
    gsi1pk: `STATUS#${finding.status}`,
    gsi1sk: `${severityRank(finding.severity)}#${due}#${finding.id}`,
  };
  if (finding.owner && isOpenWork(finding.status)) {
    item.gsi2pk = `OWNER#${finding.owner}`;
    item.gsi2sk = `${due}#${finding.id}`;
  } else if (finding.owner && finding.closedAt && isClosed(finding.status)) {
    // One owner's closed work by closing time: owner-scoped SLA reports (MTTR, within SLA) since a date.
    item.gsi2pk = `CLOSED#${finding.owner}`;
    item.gsi2sk = `${finding.closedAt}#${finding.id}`;
  } else if (finding.owner && finding.status === 'risk_accepted') {
    // One owner's accepted risks by expiry: with OWNER# and CLOSED#, every finding of an owner.
    item.gsi2pk = `ACCEPTED#${finding.owner}`;
    item.gsi2sk = `${finding.exception?.until ?? due}#${finding.id}`;
  }
  if (finding.secretHash) {
    item.gsi3pk = `SECRET#${finding.secretHash}`;
    item.gsi3sk = finding.id;
  }
  if (finding.lifecycle?.timerAt) {
    item.gsi4pk = TIMER_PARTITION;
    item.gsi4sk = `${finding.lifecycle.timerAt}#${finding.id}`;
  }
  return item;
}

function fromFindingItem(item: Record<string, unknown>): Finding {
  return FindingSchema.parse(item);
}

/** FindingStore and CursorStore on one DynamoDB table (DynamoDB Local or AWS). */
export class DynamoFindingStore implements FindingStore, CursorStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(id: string): Promise<Finding | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: findingKey(id), ConsistentRead: true }),
    );
    return out.Item ? fromFindingItem(out.Item) : undefined;
  }

  async getMany(ids: string[]): Promise<Map<string, Finding>> {
    const found = new Map<string, Finding>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += MAX_BATCH_GET) {
      const items = await this.batchGet(unique.slice(i, i + MAX_BATCH_GET).map(findingKey));
      for (const item of items) {
        const finding = fromFindingItem(item);
        found.set(finding.id, finding);
      }
    }
    return found;
  }

  async resolveAliases(keys: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += MAX_BATCH_GET) {
      const items = await this.batchGet(
        unique.slice(i, i + MAX_BATCH_GET).map((k) => ({ pk: `ALIAS#${k}`, sk: '#ALIAS' })),
      );
      for (const item of items) out.set(String(item.aliasKey), String(item.findingId));
    }
    return out;
  }

  /** BatchGetItem with UnprocessedKeys retried under backoff; consistent reads. */
  private async batchGet(keys: Record<string, string>[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let pending: Record<string, string>[] = keys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > MAX_UNPROCESSED_RETRIES)
        throw new StoreUnavailableError(`DynamoDB left ${pending.length} keys unprocessed after ${attempt} attempts`);
      if (attempt > 0) await sleep(backoffDelayMs(attempt));
      const out = await this.doc.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      items.push(...(out.Responses?.[this.tableName] ?? []));
      pending = (out.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, string>[] | undefined) ?? [];
    }
    return items;
  }

  async commit(writes: FindingWrite[]): Promise<{ conflicts: string[] }> {
    // Pack whole writes into transactions of at most 100 items; a write is never split. Each
    // finding appears in at most one write, so the transactions are independent and run
    // concurrently.
    const transactions: FindingWrite[][] = [];
    let batch: FindingWrite[] = [];
    let size = 0;
    for (const write of writes) {
      const items = itemCount(write);
      if (items > MAX_TRANSACTION_ITEMS)
        throw new CloseloopError(
          `one finding write has ${items} items; at most ${MAX_TRANSACTION_ITEMS} fit a transaction`,
        );
      if (size + items > MAX_TRANSACTION_ITEMS) {
        transactions.push(batch);
        batch = [];
        size = 0;
      }
      batch.push(write);
      size += items;
    }
    if (batch.length > 0) transactions.push(batch);
    const conflicts: string[] = [];
    for (let i = 0; i < transactions.length; i += MAX_CONCURRENT_TRANSACTIONS) {
      const results = await Promise.all(
        transactions.slice(i, i + MAX_CONCURRENT_TRANSACTIONS).map((t) => this.commitTransaction(t)),
      );
      for (const r of results) conflicts.push(...r);
    }
    return { conflicts };
  }

  /**
   * One transaction. The finding head carries the guard: `attribute_not_exists` for a new
   * finding (two ingests creating the same finding: one wins, the other re-reads and merges),
   * `version = :expected` for an update (no lost source under concurrent ingests). Events are
   * keyed by sequence number, which only the guard's winner can claim.
   */
  private async commitTransaction(writes: FindingWrite[]): Promise<string[]> {
    let pending = writes;
    const conflicts: string[] = [];
    for (let attempt = 0; pending.length > 0; attempt++) {
      const items = pending.flatMap((w) => this.transactItems(w));
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
        return conflicts;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        const reasons = err.CancellationReasons ?? [];
        // Reasons align with items; map each back to its write via the head's position.
        let index = 0;
        const failed = new Set<string>();
        let throttled = false;
        for (const w of pending) {
          const code = reasons[index]?.Code;
          if (code === 'ConditionalCheckFailed') failed.add(w.finding.id);
          for (let j = index; j < index + itemCount(w); j++) {
            const c = reasons[j]?.Code;
            if (c === 'TransactionConflict' || c === 'ThrottlingError' || c === 'ProvisionedThroughputExceeded')
              throttled = true;
          }
          index += itemCount(w);
        }
        if (failed.size === 0 && !throttled) throw err;
        conflicts.push(...failed);
        pending = pending.filter((w) => !failed.has(w.finding.id));
        if (attempt >= MAX_UNPROCESSED_RETRIES)
          throw new StoreUnavailableError('DynamoDB kept cancelling the ingest transaction', { cause: err });
        if (throttled) await sleep(backoffDelayMs(attempt));
      }
    }
    return conflicts;
  }

  private transactItems(write: FindingWrite) {
    const { finding, expectedVersion } = write;
    const head =
      expectedVersion === null
        ? {
            Put: {
              TableName: this.tableName,
              Item: toFindingItem(finding),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          }
        : {
            Put: {
              TableName: this.tableName,
              Item: toFindingItem(finding),
              ConditionExpression: '#version = :expected',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':expected': expectedVersion },
            },
          };
    const events = write.events.map((event) => ({
      Put: {
        TableName: this.tableName,
        Item: {
          pk: `FINDING#${finding.id}`,
          sk: eventSk(event.seq),
          type: 'event',
          ...event,
          ...eventIndexKeys(event),
        },
      },
    }));
    const aliases = write.aliases.map((aliasKey) => ({
      Put: {
        TableName: this.tableName,
        Item: { pk: `ALIAS#${aliasKey}`, sk: '#ALIAS', type: 'alias', aliasKey, findingId: finding.id },
      },
    }));
    // Ticket work caused by these events is written with them (a transactional outbox): a
    // transition is never recorded without the ticket update it owes, nor the reverse.
    const outbox = ticketWorkFor(write.events).map((work) => ({
      Put: { TableName: this.tableName, Item: toWorkItem(work) },
    }));
    const history = exceptionHistoryFor(write).map((item) => ({ Put: { TableName: this.tableName, Item: item } }));
    return [head, ...events, ...aliases, ...outbox, ...history];
  }

  async list(filter: { status?: FindingStatus } = {}): Promise<Finding[]> {
    const statuses = filter.status ? [filter.status] : FINDING_STATUSES;
    const out: Finding[] = [];
    for (const status of statuses) {
      const items = await this.queryAll({
        TableName: this.tableName,
        IndexName: 'byStatus',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': `STATUS#${status}` },
      });
      out.push(...items.map(fromFindingItem));
    }
    return out.sort(
      (a, b) =>
        severityRank(a.severity) - severityRank(b.severity) ||
        (a.dueAt ?? '').localeCompare(b.dueAt ?? '') ||
        a.id.localeCompare(b.id),
    );
  }

  async dueTimers(now: string): Promise<Finding[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: 'byTimer',
      KeyConditionExpression: 'gsi4pk = :pk AND gsi4sk <= :now',
      // "~" sorts after every "#<id>" suffix, so timers at exactly `now` are included.
      ExpressionAttributeValues: { ':pk': TIMER_PARTITION, ':now': `${now}~` },
    });
    return items.map(fromFindingItem);
  }

  async events(findingId: string): Promise<AuditEvent[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :events)',
      ExpressionAttributeValues: { ':pk': `FINDING#${findingId}`, ':events': 'EVENT#' },
      ConsistentRead: true,
    });
    return items.map((item) => AuditEventSchema.parse(item));
  }

  async quarantine(entries: QuarantineEntry[]): Promise<void> {
    const requests = entries.map((entry) => ({
      PutRequest: { Item: { pk: 'QUARANTINE', sk: entry.id, type: 'quarantine', ...entry } },
    }));
    for (let i = 0; i < requests.length; i += MAX_BATCH_WRITE) {
      await this.batchWrite(requests.slice(i, i + MAX_BATCH_WRITE));
    }
  }

  /** BatchWriteItem with UnprocessedItems retried under backoff. Only for unguarded items. */
  private async batchWrite(requests: Record<string, unknown>[]): Promise<void> {
    let pending = requests;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > MAX_UNPROCESSED_RETRIES)
        throw new StoreUnavailableError(`DynamoDB left ${pending.length} writes unprocessed after ${attempt} attempts`);
      if (attempt > 0) await sleep(backoffDelayMs(attempt));
      const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
      pending = (out.UnprocessedItems?.[this.tableName] as Record<string, unknown>[] | undefined) ?? [];
    }
  }

  async listQuarantine(): Promise<QuarantineEntry[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'QUARANTINE' },
    });
    return items
      .map((item) => ({
        id: String(item.id),
        receivedAt: String(item.receivedAt),
        file: String(item.file),
        format: String(item.format),
        recordNo: Number(item.recordNo),
        problems: (item.problems as string[]) ?? [],
        redactedRecord: String(item.redactedRecord),
      }))
      .sort(
        (a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.file.localeCompare(b.file) || a.recordNo - b.recordNo,
      );
  }

  async getCursor(connector: string, scope: string): Promise<string | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `CURSOR#${connector}`, sk: scope },
        ConsistentRead: true,
      }),
    );
    return out.Item ? String(out.Item.cursor) : undefined;
  }

  async putCursor(connector: string, scope: string, cursor: string): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `CURSOR#${connector}`, sk: scope, type: 'cursor', cursor },
      }),
    );
  }

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
