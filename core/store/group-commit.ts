import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  type CancellationReason,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { backoffDelayMs, sleep } from '../shared/backoff';
import { CloseloopError } from '../shared/errors';

/**
 * Group commit for the embedded default (DynamoDB Local), where a call costs far more than an item:
 * the single-item reads and writes that concurrent callers (lifecycles side by side, a ticket sync's
 * pool) issue in the same turn of the event loop go out together, reads as one BatchGetItem and
 * writes as one TransactWriteItems of up to 100 items. Each caller still sees only its own outcome:
 *
 * - **Atomicity is kept.** A caller's TransactWriteItems is never split, and a merged transaction is
 *   all or nothing. When it is cancelled, its cancellation reasons (one per item, in order) say which
 *   caller's condition failed: that caller gets the error it would have got alone (a plain write a
 *   ConditionalCheckFailedException, a transaction a TransactionCanceledException with its own
 *   reasons); the others are sent again.
 * - **Order per item is kept.** Two writes of one item never share a call (DynamoDB refuses that),
 *   and a later one waits until the earlier one is done; writes of different items were concurrent
 *   anyway.
 * - **One bad request never sinks the others.** A merged call refused as a whole (a validation
 *   error, an item too large) is retried as each caller's own call, so only the bad one fails, with
 *   DynamoDB's own error.
 * - Conflicts and throttling are retried with backoff, as the stores do.
 *
 * Only requests whose meaning a merge cannot change are merged: Get by key (consistency kept, no
 * projection), Put/Update/Delete without ReturnValues, and TransactWriteItems without an idempotency
 * token. Everything else goes straight to DynamoDB.
 *
 * Why only locally: on AWS a transactional write costs twice the write units of a plain one, and a
 * Lambda serves one event at a time, so there is nothing to merge; the Lambdas do not use it.
 */
export interface GroupCommitOptions {
  /** Merged write calls in flight at once. @default 2 */
  writesInFlight?: number;
  /** Merged read calls in flight at once. @default 4 */
  readsInFlight?: number;
  /** Retries of a caller's write cancelled by a conflict or throttling. @default 8 */
  maxRetries?: number;
  /** The key attributes of the tables written. @default pk, sk */
  keyAttributes?: readonly string[];
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type Sender = Pick<DynamoDBDocumentClient, 'send'>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commands of every shape pass through
type AnyCommand = any;

const MAX_TRANSACTION_ITEMS = 100;
const MAX_BATCH_GET = 100;
const RETRYABLE: ReadonlySet<string> = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);
const METADATA = { $metadata: {} } as const;

/** A caller's write: one item for a Put/Update/Delete, several for its own TransactWriteItems. */
interface PendingWrite {
  items: TransactItem[];
  keys: string[];
  /** A plain Put/Update/Delete: a failed condition is a ConditionalCheckFailedException. */
  plain: boolean;
  command: AnyCommand;
  attempts: number;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

interface PendingGet {
  table: string;
  consistent: boolean;
  key: Record<string, unknown>;
  id: string;
  command: AnyCommand;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** Input fields each mergeable request may carry (anything else, and the request goes out alone). */
const WRITE_FIELDS: Record<'Put' | 'Update' | 'Delete', ReadonlySet<string>> = {
  Put: new Set([
    'TableName',
    'Item',
    'ConditionExpression',
    'ExpressionAttributeNames',
    'ExpressionAttributeValues',
    'ReturnValuesOnConditionCheckFailure',
  ]),
  Update: new Set([
    'TableName',
    'Key',
    'UpdateExpression',
    'ConditionExpression',
    'ExpressionAttributeNames',
    'ExpressionAttributeValues',
    'ReturnValuesOnConditionCheckFailure',
  ]),
  Delete: new Set([
    'TableName',
    'Key',
    'ConditionExpression',
    'ExpressionAttributeNames',
    'ExpressionAttributeValues',
    'ReturnValuesOnConditionCheckFailure',
  ]),
};
const GET_FIELDS: ReadonlySet<string> = new Set(['TableName', 'Key', 'ConsistentRead']);

const only = (input: Record<string, unknown>, allowed: ReadonlySet<string>) =>
  Object.keys(input).every((k) => allowed.has(k) || input[k] === undefined);

/** Wraps a document client so concurrent single-item requests go out merged (see GroupCommitOptions). */
export class GroupCommit {
  private readonly writes: PendingWrite[] = [];
  private readonly gets: PendingGet[] = [];
  /** Keys of items some merged write in flight touches. */
  private readonly busy = new Set<string>();
  private writesRunning = 0;
  private readsRunning = 0;
  private scheduled = false;
  private readonly writesInFlight: number;
  private readonly readsInFlight: number;
  private readonly maxRetries: number;
  private readonly keyAttributes: readonly string[];

  constructor(
    private readonly raw: Sender,
    options: GroupCommitOptions = {},
  ) {
    this.writesInFlight = options.writesInFlight ?? 2;
    this.readsInFlight = options.readsInFlight ?? 4;
    this.maxRetries = options.maxRetries ?? 8;
    this.keyAttributes = options.keyAttributes ?? ['pk', 'sk'];
  }

  /** Replaces `doc.send` so every request the client sends goes through the group commit. */
  static install(doc: DynamoDBDocumentClient, options: GroupCommitOptions = {}): GroupCommit {
    const raw = doc.send.bind(doc) as Sender['send'];
    const group = new GroupCommit({ send: raw }, options);
    doc.send = ((command: AnyCommand, ...rest: unknown[]) =>
      rest.length > 0 && rest[0] !== undefined
        ? (raw as (...a: unknown[]) => unknown)(command, ...rest)
        : group.send(command)) as typeof doc.send;
    return group;
  }

  /** Sends `command`, merged with others when that cannot change its meaning. */
  send(command: AnyCommand): Promise<unknown> {
    const input = command.input as Record<string, unknown>;
    if (command instanceof GetCommand && only(input, GET_FIELDS)) return this.enqueueGet(command);
    const kind =
      command instanceof PutCommand
        ? 'Put'
        : command instanceof UpdateCommand
          ? 'Update'
          : command instanceof DeleteCommand
            ? 'Delete'
            : undefined;
    if (kind && only(input, WRITE_FIELDS[kind])) {
      const item = { [kind]: input } as TransactItem;
      return this.enqueueWrite(command, [item], true);
    }
    if (command instanceof TransactWriteCommand && only(input, new Set(['TransactItems']))) {
      const items = (input.TransactItems as TransactItem[] | undefined) ?? [];
      if (items.length > 0 && items.length <= MAX_TRANSACTION_ITEMS) return this.enqueueWrite(command, items, false);
    }
    return this.raw.send(command);
  }

  private keyOf(table: string, key: Record<string, unknown>): string {
    return [table, ...this.keyAttributes.map((a) => JSON.stringify(key[a] ?? null))].join('\u0000');
  }

  private itemKey(item: TransactItem): string {
    const op = (item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck)! as {
      TableName?: string;
      Key?: Record<string, unknown>;
      Item?: Record<string, unknown>;
    };
    return this.keyOf(op.TableName ?? '', op.Key ?? op.Item ?? {});
  }

  private enqueueWrite(command: AnyCommand, items: TransactItem[], plain: boolean): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.writes.push({
        items,
        keys: items.map((i) => this.itemKey(i)),
        plain,
        command,
        attempts: 0,
        resolve,
        reject,
      });
      this.schedule();
    });
  }

  private enqueueGet(command: AnyCommand): Promise<unknown> {
    const input = command.input as { TableName: string; Key: Record<string, unknown>; ConsistentRead?: boolean };
    return new Promise((resolve, reject) => {
      this.gets.push({
        table: input.TableName,
        consistent: input.ConsistentRead === true,
        key: input.Key,
        id: this.keyOf(input.TableName, input.Key),
        command,
        resolve,
        reject,
      });
      this.schedule();
    });
  }

  /** Flushes after the current turn, so whatever concurrent callers issue meanwhile joins. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.writesRunning < this.writesInFlight) {
      const batch = this.takeWrites();
      if (batch.length === 0) break;
      this.writesRunning++;
      void this.flushWrites(batch).finally(() => {
        this.writesRunning--;
        for (const w of batch) for (const k of w.keys) this.busy.delete(k);
        if (this.writes.length > 0) this.schedule();
      });
    }
    while (this.readsRunning < this.readsInFlight && this.gets.length > 0) {
      const batch = this.takeGets();
      this.readsRunning++;
      void this.flushGets(batch).finally(() => {
        this.readsRunning--;
        if (this.gets.length > 0) this.schedule();
      });
    }
  }

  /**
   * The oldest writes that fit one transaction: no item twice, none an earlier write still waiting
   * or in flight touches (so writes of one item keep their order).
   */
  private takeWrites(): PendingWrite[] {
    const taken: PendingWrite[] = [];
    const blocked = new Set<string>();
    let size = 0;
    for (let i = 0; i < this.writes.length && size < MAX_TRANSACTION_ITEMS;) {
      const w = this.writes[i]!;
      const clash = new Set(w.keys).size < w.keys.length || w.keys.some((k) => this.busy.has(k) || blocked.has(k));
      if (clash || size + w.items.length > MAX_TRANSACTION_ITEMS) {
        for (const k of w.keys) blocked.add(k);
        i++;
        continue;
      }
      this.writes.splice(i, 1);
      for (const k of w.keys) {
        this.busy.add(k);
        blocked.add(k);
      }
      taken.push(w);
      size += w.items.length;
    }
    // A caller's own transaction naming one item twice: DynamoDB's error, on its own call.
    if (taken.length === 0) {
      const alone = this.writes.findIndex(
        (w) => new Set(w.keys).size < w.keys.length && !w.keys.some((k) => this.busy.has(k)),
      );
      if (alone >= 0) {
        const [w] = this.writes.splice(alone, 1);
        for (const k of w!.keys) this.busy.add(k);
        taken.push(w!);
      }
    }
    return taken;
  }

  private takeGets(): PendingGet[] {
    const first = this.gets[0]!;
    const batch: PendingGet[] = [];
    const ids = new Set<string>();
    for (let i = 0; i < this.gets.length;) {
      const g = this.gets[i]!;
      const fits = g.table === first.table && g.consistent === first.consistent;
      if (fits && (ids.has(g.id) || ids.size < MAX_BATCH_GET)) {
        ids.add(g.id);
        batch.push(g);
        this.gets.splice(i, 1);
      } else i++;
    }
    return batch;
  }

  private async flushWrites(batch: PendingWrite[]): Promise<void> {
    if (batch.length === 1) return this.alone(batch[0]!);
    try {
      await this.raw.send(new TransactWriteCommand({ TransactItems: batch.flatMap((w) => w.items) }));
      for (const w of batch) w.resolve(METADATA);
    } catch (err) {
      if (!(err instanceof TransactionCanceledException) || !err.CancellationReasons?.length) {
        // Refused as a whole: each caller's own request, so only a bad one fails, with its own error.
        await Promise.all(batch.map((w) => this.alone(w)));
        return;
      }
      const reasons = err.CancellationReasons;
      let at = 0;
      const again: PendingWrite[] = [];
      let backoff = false;
      for (const w of batch) {
        const own = reasons.slice(at, at + w.items.length);
        at += w.items.length;
        const codes = own.map((r) => r.Code ?? 'None');
        if (codes.some((c) => c !== 'None' && !RETRYABLE.has(c))) w.reject(this.ownError(w, own, err));
        else if (codes.some((c) => RETRYABLE.has(c))) {
          backoff = true;
          if (++w.attempts > this.maxRetries) w.reject(this.ownError(w, own, err));
          else again.push(w);
        } else again.push(w);
      }
      if (backoff) await sleep(backoffDelayMs(Math.max(...again.map((w) => w.attempts), 0)));
      // Back at the head of the queue, in their order: nothing behind them on their items overtakes them.
      this.writes.unshift(...again);
    }
  }

  /** A caller's request on its own call, with its own outcome (conflicts retried like the stores do). */
  private async alone(w: PendingWrite): Promise<void> {
    for (;;) {
      try {
        w.resolve(await this.raw.send(w.command));
        return;
      } catch (err) {
        const reasons = err instanceof TransactionCanceledException ? (err.CancellationReasons ?? []) : [];
        const retryable =
          (err instanceof Error &&
            (err.name === 'TransactionConflictException' || err.name === 'ThrottlingException')) ||
          (reasons.length > 0 &&
            reasons.some((r) => RETRYABLE.has(r.Code ?? '')) &&
            reasons.every((r) => (r.Code ?? 'None') === 'None' || RETRYABLE.has(r.Code ?? '')));
        if (!retryable || ++w.attempts > this.maxRetries) {
          w.reject(err);
          return;
        }
        await sleep(backoffDelayMs(w.attempts));
      }
    }
  }

  /** The error the caller would have got from its own request. */
  private ownError(w: PendingWrite, own: CancellationReason[], merged: TransactionCanceledException): Error {
    const failed = own.find((r) => r.Code && r.Code !== 'None');
    if (w.plain && failed?.Code === 'ConditionalCheckFailed')
      return new ConditionalCheckFailedException({
        message: failed.Message ?? 'The conditional request failed',
        $metadata: merged.$metadata,
        ...(failed.Item ? { Item: failed.Item } : {}),
      });
    return new TransactionCanceledException({
      message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${own.map((r) => r.Code ?? 'None').join(', ')}]`,
      $metadata: merged.$metadata,
      CancellationReasons: own,
    });
  }

  private async flushGets(batch: PendingGet[]): Promise<void> {
    const first = batch[0]!;
    if (batch.length === 1) {
      await this.raw.send(first.command).then(first.resolve, first.reject);
      return;
    }
    const unique = new Map<string, Record<string, unknown>>();
    for (const g of batch) unique.set(g.id, g.key);
    const found = new Map<string, Record<string, unknown>>();
    try {
      let pending = [...unique.values()];
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > this.maxRetries) throw new CloseloopError(`DynamoDB left ${pending.length} keys unprocessed`);
        if (attempt > 0) await sleep(backoffDelayMs(attempt));
        const out = await this.raw.send(
          new BatchGetCommand({
            RequestItems: { [first.table]: { Keys: pending, ...(first.consistent ? { ConsistentRead: true } : {}) } },
          }),
        );
        for (const item of out.Responses?.[first.table] ?? []) found.set(this.keyOf(first.table, item), item);
        pending = (out.UnprocessedKeys?.[first.table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      }
    } catch {
      // Refused as a whole (a malformed key, say): each read on its own, with its own outcome.
      await Promise.all(batch.map((g) => this.raw.send(g.command).then(g.resolve, g.reject)));
      return;
    }
    const asked = new Map<string, number>();
    for (const g of batch) asked.set(g.id, (asked.get(g.id) ?? 0) + 1);
    for (const g of batch) {
      const item = found.get(g.id);
      // Two callers of one item each get their own copy, as two reads would.
      const own = item && asked.get(g.id)! > 1 ? structuredClone(item) : item;
      g.resolve(own ? { ...METADATA, Item: own } : { ...METADATA });
    }
  }
}
