import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '../audit/chain';
import { sleep } from '../shared/backoff';
import { inParallel } from '../shared/concurrency';
import { CloseloopError } from '../shared/errors';
import type { ExpiredExceptionRecord } from '../finding/history';
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
import type { WritebackWork } from '../writeback/model';
import { toNoticeItem } from './dynamo-notification-store';
import {
  INLINE_EVENTS,
  MAX_INLINE_EVENT_CHARS,
  eventsOf,
  inlineEventsOf,
  toEventPages,
  withInline,
} from './event-pages';
import { toWorkPages } from './work-pages';
import { awaitsLifecycle } from '../lifecycle/start';
import { waitingEntry, waitScope, waitsForOwner, type WaitingEntry } from '../finding/waiting';
import {
  GSI,
  LIFECYCLE_START_SHARDS,
  SORT_PREFIX,
  STORE_RETRY,
  StoreUnavailableError,
  indexKeys,
  keys,
  onIndex,
  partitions,
  type Item,
  type SingleTable,
} from './table';

/** TransactWriteItems takes at most 100 items per call. */
const MAX_TRANSACTION_ITEMS = 100;
/** Transactions of one ingest round in flight at once. */
const MAX_CONCURRENT_TRANSACTIONS = 8;

/** The finding item with its index keys. Sparse indexes get their keys only when they apply. */
export function toFindingItem(finding: Finding): Item {
  const due = finding.dueAt ?? '9999-12-31T00:00:00.000Z';
  const item: Item = {
    ...keys.finding(finding.id),
    type: 'finding',
    ...finding,
    ...indexKeys.status(finding.status, severityRank(finding.severity), due, finding.id),
  };
  if (finding.owner && isOpenWork(finding.status)) {
    Object.assign(item, indexKeys.openOf(finding.owner, due, finding.id));
  } else if (finding.owner && finding.closedAt && isClosed(finding.status)) {
    // One owner's closed work by closing time: owner-scoped SLA reports (MTTR, within SLA) since a date.
    Object.assign(item, indexKeys.closedOf(finding.owner, finding.closedAt, finding.id));
  } else if (finding.owner && finding.status === 'risk_accepted') {
    // One owner's accepted risks by expiry: with OWNER# and CLOSED#, every finding of an owner.
    Object.assign(item, indexKeys.acceptedOf(finding.owner, finding.exception?.until ?? due, finding.id));
  }
  if (finding.secretHash) Object.assign(item, indexKeys.secret(finding.secretHash, finding.id));
  // One byTimer entry per item: a finding awaiting its lifecycle's start is in the start index (the
  // sweep's); once its lifecycle waits, its timer is indexed. On Step Functions the two never meet
  // (no timer before triage); locally, a start in flight indexes its timer when it parks.
  if (awaitsLifecycle(finding))
    Object.assign(item, indexKeys.lifecycleStart(finding.reopenedAt ?? finding.firstSeen, finding.id));
  else if (finding.lifecycle?.timerAt) Object.assign(item, indexKeys.timer(finding.lifecycle.timerAt, finding.id));
  if (waitsForOwner(finding)) Object.assign(item, waitingAttributes(finding));
  return item;
}

/** byScope's keys of a waiting finding, and what it projects: enough to tell whether a scan speaks of it. */
function waitingAttributes(finding: Finding): Item {
  const entry = waitingEntry(finding);
  return {
    ...indexKeys.waiting(waitScope(finding.asset), finding.id),
    waitAsset: entry.assetId,
    waitScanners: entry.scanners,
  };
}

/** The table fact that byScope holds every waiting finding, those written before it too. */
const WAITING_INDEX_FILLED = keys.meta('#INDEX#byScope');

/** Whether byScope was filled for the findings written before it (see `fillWaitingIndex`). */
export async function waitingIndexFilled(table: SingleTable): Promise<boolean> {
  const out = await table.doc.send(
    new GetCommand({ TableName: table.name, Key: WAITING_INDEX_FILLED, ConsistentRead: true }),
  );
  return out.Item !== undefined;
}

/** Scope partitions read at once. */
const SCOPES_IN_FLIGHT = 4;
/** Findings given byScope's keys at once when the index is filled (an interrupted fill goes on where it stopped). */
const FILLS_IN_FLIGHT = 16;

/** A finding's audit events as items: one page per write (core/store/event-pages.ts), listed by day through byTimer. */
export const toEventItems = (events: AuditEvent[]): Item[] =>
  toEventPages(events, (seq) => keys.findingEvent(events[0]!.findingId, seq));

/** Pending write-back: beside its finding, and in the WRITEBACK partition of byTimer until done. */
export const toWritebackItem = (work: WritebackWork): Item => ({
  ...keys.writebackWork(work.findingId, work.seq),
  type: 'writeback_work',
  ...work,
  state: 'pending',
  ...indexKeys.writeback(work),
});

/** An expired exception in its finding's partition, listed through byStatus `EXCEPTIONS#expired`. */
export const toExpiredExceptionItem = (record: ExpiredExceptionRecord): Item => ({
  ...keys.expiredException(record.findingId, record.expiredAt),
  type: 'expired_exception',
  ...record,
  ...indexKeys.expiredExceptions(record.expiredAt, record.findingId),
});

/**
 * Whether a write's events ride in its head (core/store/event-pages.ts): a creation whose events
 * are small. Its transaction then holds the head without their page, written once it commits.
 */
export const ridesInline = (write: FindingWrite) =>
  write.expectedVersion === null &&
  write.events.length > 0 &&
  JSON.stringify(write.events).length <= MAX_INLINE_EVENT_CHARS;

/**
 * A finding write as transaction items: the head carries the guard (`attribute_not_exists` for a
 * new finding, `version = :expected` for an update), then its event page, aliases, outboxes,
 * notices and history. The head is always first: a cancellation reason at its index is the guard.
 * With `inline` (for a creation the caller found `ridesInline`), the head carries the events and
 * their page is left to the caller, to write once the transaction commits.
 */
export function findingWriteItems(TableName: string, write: FindingWrite, options: { inline?: boolean } = {}) {
  const { finding, expectedVersion } = write;
  // Only a creation: an update's head must never be the only place of its events.
  const inline = options.inline === true && expectedVersion === null && write.events.length > 0;
  const Item = inline ? { ...toFindingItem(finding), [INLINE_EVENTS]: write.events } : toFindingItem(finding);
  const head =
    expectedVersion === null
      ? { Put: { TableName, Item, ConditionExpression: 'attribute_not_exists(pk)' } }
      : {
          Put: {
            TableName,
            Item,
            ConditionExpression: '#version = :expected',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':expected': expectedVersion },
          },
        };
  const put = (Item: Item) => ({ Put: { TableName, Item } });
  return [
    head,
    ...(write.events.length > 0 && !inline ? toEventItems(write.events).map(put) : []),
    ...write.aliases.map((aliasKey) =>
      put({ ...keys.alias(aliasKey), type: 'alias', aliasKey, findingId: finding.id }),
    ),
    ...toWorkPages(write.outbox).map(put),
    ...(write.writeback ?? []).map((work) => put(toWritebackItem(work))),
    ...write.notices.map((notice) => put(toNoticeItem(notice))),
    ...write.history.map((record) => put(toExpiredExceptionItem(record))),
  ];
}

/** What is known of one head's own events: for its version, whether their page is written, and until it is, which events. */
export interface InlineState {
  version: number;
  events: AuditEvent[];
  paged: boolean;
}

/**
 * Heads whose inline state is kept per table at most: a cache (what it forgets, it reads again)
 * whose use is short, from a read to the write after it, or from a creation to its lifecycle's
 * start. Events are kept only while their page is still to write; a large ingest's memory stays flat.
 */
const MAX_KNOWN_HEADS = 20_000;

const knownByTable = new WeakMap<SingleTable, Map<string, InlineState>>();

/**
 * What this process read or wrote of heads' own events on `table`, by finding id, shared by the
 * stores on it (a ticket's link write then knows what the finding store read): an update then knows
 * what to page without reading the head again.
 */
export function knownHeads(table: SingleTable): Map<string, InlineState> {
  let known = knownByTable.get(table);
  if (!known) knownByTable.set(table, (known = new Map()));
  return known;
}

/** Records what this process knows of a head (see `knownHeads`), within the cache's bound. */
export function rememberHead(table: SingleTable, id: string, state: InlineState): void {
  remember(knownHeads(table), id, state);
}

function remember(known: Map<string, InlineState>, id: string, state: InlineState): void {
  if (known.size >= MAX_KNOWN_HEADS && !known.has(id)) known.clear();
  known.set(id, state);
}

/**
 * Writes the pages of the events that the heads `updates` replace still carry, before the updates
 * commit (core/store/event-pages.ts): a head replaced is then never the only place of its events.
 * `known`: what this process read of those heads; the others are read (their inline events only).
 * A page already there is not written again.
 */
export async function pageBeforeReplacing(
  table: SingleTable,
  updates: readonly FindingWrite[],
  known: Map<string, InlineState> = knownHeads(table),
): Promise<void> {
  const replaced = updates.filter((w) => w.expectedVersion !== null);
  const unknown = replaced.filter((w) => known.get(w.finding.id)?.version !== w.expectedVersion);
  if (unknown.length > 0) {
    const heads = await table.batchGet(
      unknown.map((w) => keys.finding(w.finding.id)),
      ['id', 'version', INLINE_EVENTS],
    );
    for (const head of heads)
      remember(known, String(head.id), { version: Number(head.version), events: inlineEventsOf(head), paged: false });
  }
  // A head whose version is not the one expected is not replaced: its write's guard fails.
  const toPage = replaced
    .map((w) => known.get(w.finding.id))
    .filter((state, i): state is InlineState => state?.version === replaced[i]!.expectedVersion && !state.paged)
    .filter((state) => state.events.length > 0);
  if (toPage.length === 0) return;
  // Usually the creation's own process wrote the pages: a read of their keys is cheaper than writing them again.
  const pages = toPage.flatMap((state) => toEventItems(state.events));
  const present = new Set((await table.batchGet(pages.map(pageKey), ['pk', 'sk'])).map(keyText));
  await table.batchPut(pages.filter((page) => !present.has(keyText(page))));
  for (const state of toPage) Object.assign(state, { events: [], paged: true });
}

const pageKey = (page: Item) => ({ pk: String(page.pk), sk: String(page.sk) });
const keyText = (item: Item) => `${String(item.pk)} ${String(item.sk)}`;

function fromFindingItem(item: Item): Finding {
  return FindingSchema.parse(item);
}

/** A write with the transaction items it puts. */
interface Prepared {
  write: FindingWrite;
  items: ReturnType<typeof findingWriteItems>;
  /** The event pages written once the transaction commits (the events ride in the head). */
  after: Item[];
}

/** FindingStore and CursorStore on the one table (DynamoDB Local or AWS). */
export class DynamoFindingStore implements FindingStore, CursorStore {
  /** What was read or written of heads' own events on this table (see `knownHeads`). */
  private readonly inline: Map<string, InlineState>;

  constructor(private readonly table: SingleTable) {
    this.inline = knownHeads(table);
  }

  /** A head read, its inline state remembered (what this process wrote of that version it knows better). */
  private head(item: Item): Finding {
    const finding = fromFindingItem(item);
    if (this.inline.get(finding.id)?.version === finding.version) return finding;
    const events = inlineEventsOf(item);
    this.remember(finding.id, { version: finding.version, events, paged: events.length === 0 });
    return finding;
  }

  private remember(id: string, state: InlineState): void {
    remember(this.inline, id, state);
  }

  async get(id: string): Promise<Finding | undefined> {
    const out = await this.table.doc.send(
      new GetCommand({ TableName: this.table.name, Key: keys.finding(id), ConsistentRead: true }),
    );
    return out.Item ? this.head(out.Item) : undefined;
  }

  async getMany(ids: string[]): Promise<Map<string, Finding>> {
    const found = new Map<string, Finding>();
    for (const item of await this.table.batchGet([...new Set(ids)].map(keys.finding))) {
      const finding = this.head(item);
      found.set(finding.id, finding);
    }
    return found;
  }

  async resolveAliases(aliasKeys: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const item of await this.table.batchGet([...new Set(aliasKeys)].map(keys.alias)))
      out.set(String(item.aliasKey), String(item.findingId));
    return out;
  }

  async commit(writes: FindingWrite[]): Promise<{ conflicts: string[] }> {
    // Pack whole writes into transactions of at most 100 items; a write is never split. Each
    // finding appears in at most one write, so the transactions are independent and run
    // concurrently.
    const transactions: Prepared[][] = [];
    let batch: Prepared[] = [];
    let size = 0;
    await pageBeforeReplacing(this.table, writes, this.inline);
    for (const write of writes) {
      const inline = ridesInline(write);
      const prepared = {
        write,
        items: findingWriteItems(this.table.name, write, { inline }),
        after: inline ? toEventItems(write.events) : [],
      };
      const items = prepared.items.length;
      if (items > MAX_TRANSACTION_ITEMS)
        throw new CloseloopError(
          `one finding write has ${items} items; at most ${MAX_TRANSACTION_ITEMS} fit a transaction`,
        );
      if (size + items > MAX_TRANSACTION_ITEMS) {
        transactions.push(batch);
        batch = [];
        size = 0;
      }
      batch.push(prepared);
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
   * `version = :expected` for an update (no lost source under concurrent ingests). Event pages are
   * keyed by sequence number, which only the guard's winner can claim.
   */
  private async commitTransaction(writes: Prepared[]): Promise<string[]> {
    let pending = writes;
    const conflicts: string[] = [];
    for (let attempt = 0; pending.length > 0; attempt++) {
      try {
        await this.table.doc.send(new TransactWriteCommand({ TransactItems: pending.flatMap((p) => p.items) }));
        await this.table.batchPut(pending.flatMap((p) => p.after));
        // Paged: nothing of those heads is left to write, so nothing of their events is kept.
        for (const { write } of pending)
          this.remember(write.finding.id, { version: write.finding.version, events: [], paged: true });
        return conflicts;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        const reasons = err.CancellationReasons ?? [];
        // Reasons align with items; map each back to its write via the head's position.
        let index = 0;
        const failed = new Set<string>();
        let throttled = false;
        for (const { write, items } of pending) {
          const code = reasons[index]?.Code;
          if (code === 'ConditionalCheckFailed') failed.add(write.finding.id);
          for (let j = index; j < index + items.length; j++) {
            const c = reasons[j]?.Code;
            if (c === 'TransactionConflict' || c === 'ThrottlingError' || c === 'ProvisionedThroughputExceeded')
              throttled = true;
          }
          index += items.length;
        }
        if (failed.size === 0 && !throttled) throw err;
        conflicts.push(...failed);
        pending = pending.filter((p) => !failed.has(p.write.finding.id));
        if (attempt >= STORE_RETRY.maxRetries)
          throw new StoreUnavailableError('DynamoDB kept cancelling the ingest transaction', { cause: err });
        if (throttled) await sleep(STORE_RETRY.delayMs(attempt));
      }
    }
    return conflicts;
  }

  async list(filter: { status?: FindingStatus } = {}): Promise<Finding[]> {
    const statuses = filter.status ? [filter.status] : FINDING_STATUSES;
    const out: Finding[] = [];
    for (const status of statuses) {
      const items = await this.table.queryAll(onIndex('byStatus', partitions.status(status)));
      out.push(...items.map((item) => this.head(item)));
    }
    return out.sort(
      (a, b) =>
        severityRank(a.severity) - severityRank(b.severity) ||
        (a.dueAt ?? '').localeCompare(b.dueAt ?? '') ||
        a.id.localeCompare(b.id),
    );
  }

  async dueTimers(now: string): Promise<Finding[]> {
    // "~" sorts after every "#<id>" suffix, so timers at exactly `now` are included.
    const items = await this.table.queryAll(
      onIndex('byTimer', partitions.timer, { condition: '<= :now', values: { ':now': `${now}~` } }),
    );
    return items.map((item) => this.head(item));
  }

  async *awaitingLifecycle(): AsyncGenerator<Finding[]> {
    for (let shard = 0; shard < LIFECYCLE_START_SHARDS; shard++) {
      for await (const page of this.table.pages(onIndex('byTimer', partitions.lifecycleStart(shard)))) {
        if (page.Items?.length) yield page.Items.map((item) => this.head(item));
      }
    }
  }

  async waitingForOwner(scopes: Iterable<string>, match: (entry: WaitingEntry) => boolean): Promise<Finding[]> {
    await this.waitingIndexFilled();
    const ids: string[] = [];
    await inParallel(SCOPES_IN_FLIGHT, [...new Set(scopes)], async (scope) => {
      for await (const page of this.table.pages(onIndex('byScope', partitions.waiting(scope)))) {
        for (const item of page.Items ?? []) {
          const entry = {
            id: String(item[GSI.byScope.sortKey]),
            assetId: String(item.waitAsset),
            scanners: (item.waitScanners as string[] | undefined) ?? [],
          };
          if (match(entry)) ids.push(entry.id);
        }
      }
    });
    return [...(await this.getMany(ids)).values()];
  }

  private filling: Promise<void> | undefined;

  /** Once per store: byScope is trusted only once the findings written before it are in it. */
  private waitingIndexFilled(): Promise<void> {
    this.filling ??= this.fillWaitingIndex().catch((err: unknown) => {
      this.filling = undefined;
      throw err;
    });
    return this.filling;
  }

  /**
   * A table an earlier version wrote has waiting findings without byScope's keys (the index is
   * sparse, and those writes did not set them). The first reader after an upgrade reads every open
   * and reopened finding once, as every report did before, and sets the keys on those waiting,
   * each guarded by the version it read (a finding written meanwhile got them from its writer),
   * 16 at a time, then records that the index is whole, so no reader does it again. A fill cut
   * short (a Lambda's timeout) records nothing, and the next reader goes on: the findings that
   * have their keys already are skipped.
   */
  private async fillWaitingIndex(): Promise<void> {
    const TableName = this.table.name;
    if (await waitingIndexFilled(this.table)) return;
    for (const status of ['open', 'reopened'] as const) {
      for await (const page of this.table.pages(onIndex('byStatus', partitions.status(status)))) {
        const unindexed = (page.Items ?? [])
          .filter((item) => item[GSI.byScope.partitionKey] === undefined)
          .map(fromFindingItem)
          .filter(waitsForOwner);
        await inParallel(FILLS_IN_FLIGHT, unindexed, async (finding) => {
          const index = waitingAttributes(finding);
          const names = Object.keys(index);
          try {
            await this.table.doc.send(
              new UpdateCommand({
                TableName,
                Key: keys.finding(finding.id),
                UpdateExpression: `SET ${names.map((_, i) => `#a${i} = :a${i}`).join(', ')}`,
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: {
                  '#version': 'version',
                  ...Object.fromEntries(names.map((name, i) => [`#a${i}`, name])),
                },
                ExpressionAttributeValues: {
                  ':expected': finding.version,
                  ...Object.fromEntries(names.map((name, i) => [`:a${i}`, index[name]])),
                },
              }),
            );
          } catch (err) {
            if (!(err instanceof ConditionalCheckFailedException)) throw err;
          }
        });
      }
    }
    await this.table.doc.send(
      new PutCommand({
        TableName,
        Item: { ...WAITING_INDEX_FILLED, type: 'meta', filledAt: new Date().toISOString() },
      }),
    );
  }

  async events(findingId: string): Promise<AuditEvent[]> {
    // The head first: once it is read, the pages of every write before its own exist.
    const [head] = await this.table.batchGet([keys.finding(findingId)], ['pk', INLINE_EVENTS]);
    const items = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :events)',
      ExpressionAttributeValues: { ':pk': partitions.finding(findingId), ':events': SORT_PREFIX.event },
      ConsistentRead: true,
    });
    return withInline(eventsOf(items), inlineEventsOf(head));
  }

  async quarantine(entries: QuarantineEntry[]): Promise<void> {
    await this.table.batchPut(entries.map((entry) => ({ ...keys.quarantine(entry.id), type: 'quarantine', ...entry })));
  }

  async listQuarantine(): Promise<QuarantineEntry[]> {
    const items = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': partitions.quarantine },
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
    const out = await this.table.doc.send(
      new GetCommand({ TableName: this.table.name, Key: keys.cursor(connector, scope), ConsistentRead: true }),
    );
    return out.Item ? String(out.Item.cursor) : undefined;
  }

  async putCursor(connector: string, scope: string, cursor: string): Promise<void> {
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...keys.cursor(connector, scope), type: 'cursor', cursor },
      }),
    );
  }
}
