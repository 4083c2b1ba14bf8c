import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  ScanCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { backoffDelayMs, sleep } from '../shared/backoff';
import { CloseloopError } from '../shared/errors';
import { GroupCommit, type GroupCommitOptions } from './group-commit';

/**
 * The single-table layout, and the one client every DynamoDB adapter of core/store uses. The
 * CDK stack and `closeloop init` both build the table from here, so the two can never drift;
 * the README's storage tables are checked against ITEM_TYPES and INDEX_PARTITIONS.
 */

/** Default table name locally and in the stack. */
export const DEFAULT_TABLE_NAME = 'closeloop';

export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

/** The global secondary indexes, one per family of report access patterns, and their key attributes. */
export const GSI = {
  /** Findings by status, most severe and soonest due first; also history and managed secrets by time. */
  byStatus: { name: 'byStatus', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** One owner's findings: open by due date, closed by closing time, accepted by expiry. */
  byOwnerDue: { name: 'byOwnerDue', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  /** A secret's finding (sparse). */
  bySecretHash: { name: 'bySecretHash', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  /** Lifecycle timers, the ticket outbox and audit events by day: things due or done at a time (sparse). */
  byTimer: { name: 'byTimer', partitionKey: 'gsi4pk', sortKey: 'gsi4sk' },
  /**
   * Findings waiting for their owner's fix, by scope (sparse, core/finding/waiting.ts): what a
   * report's clean re-scan and the credential hygiene run can resume. It projects only what tells
   * whether a scan speaks of a finding; the few that qualify are then read in full.
   */
  byScope: {
    name: 'byScope',
    partitionKey: 'gsi5pk',
    sortKey: 'gsi5sk',
    projection: { nonKeyAttributes: ['waitAsset', 'waitScanners'] },
  },
} as const;

export interface IndexDefinition {
  name: string;
  partitionKey: string;
  sortKey: string;
  /** Attributes the index projects besides the keys; absent: every attribute. */
  projection?: { nonKeyAttributes: readonly string[] };
}

export const INDEXES: readonly IndexDefinition[] = Object.values(GSI);

/** The Projection of an index in CreateTable and UpdateTable. */
export function projectionOf(index: IndexDefinition) {
  return index.projection
    ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...index.projection.nonKeyAttributes] }
    : { ProjectionType: 'ALL' as const };
}

/** Sequence numbers in sort keys: ten digits, so they sort as numbers. */
const seqKey = (seq: number) => String(seq).padStart(10, '0');

/** Partitions of the table and of its indexes that items are written to and Queries name. */
export const partitions = {
  finding: (id: string) => `FINDING#${id}`,
  managedSecret: (arn: string) => `MANAGED_SECRET#${arn}`,
  quarantine: 'QUARANTINE',
  localTracker: 'TRACKER',
  /** byStatus: findings of one status. */
  status: (status: string) => `STATUS#${status}`,
  /** byStatus: every managed secret, least recently rotated first. */
  managedSecrets: 'MANAGED_SECRETS',
  /** byStatus: exceptions that expired while still exposed, by expiry (see core/finding/history.ts). */
  expiredExceptions: 'EXCEPTIONS#expired',
  /** byOwnerDue: one owner's open work, closed findings and accepted risks. */
  openOf: (owner: string) => `OWNER#${owner}`,
  closedOf: (owner: string) => `CLOSED#${owner}`,
  acceptedOf: (owner: string) => `ACCEPTED#${owner}`,
  /** byTimer: lifecycle timers, pending ticket work, and the audit events of a day (one of its shards). */
  timer: 'TIMER',
  /** byTimer: findings awaiting their lifecycle's start, in LIFECYCLE_START_SHARDS shards by finding id. */
  lifecycleStart: (shard: number) => `LIFECYCLE#start#${shard}`,
  outbox: 'OUTBOX',
  /** byTimer: pending write-back to scanners, by when it may next be tried. */
  writeback: 'WRITEBACK',
  /** byTimer: notices not yet routed to their channels. */
  notify: 'NOTIFY',
  /** One notification channel: its deliveries, its digests and the head naming the open one. */
  channel: (name: string) => `NOTIFY#${name}`,
  /** byTimer: a channel's deliveries not yet sent. */
  channelQueue: (name: string) => `QUEUE#${name}`,
  eventDay: (day: string, shard: number) => `EVENTDAY#${day}#${shard}`,
  /** byScope: the findings of one scope waiting for their owner's fix. */
  waiting: (scope: string) => `WAITING#${scope}`,
} as const;

/** Sort-key prefixes that Queries within a partition name. */
export const SORT_PREFIX = { event: 'EVENT#', localTicket: 'CL-', writeback: 'WRITEBACK#', digest: 'DIGEST#' } as const;

/** The primary key of every item type (see ITEM_TYPES). */
export const keys = {
  finding: (id: string) => ({ pk: partitions.finding(id), sk: '#FINDING' }),
  findingEvent: (findingId: string, seq: number) => ({
    pk: partitions.finding(findingId),
    sk: `${SORT_PREFIX.event}${seqKey(seq)}`,
  }),
  ticketWork: (findingId: string, seq: number) => ({
    pk: partitions.finding(findingId),
    sk: `TICKETWORK#${seqKey(seq)}`,
  }),
  ticket: (findingId: string) => ({ pk: partitions.finding(findingId), sk: '#TICKET' }),
  writebackWork: (findingId: string, seq: number) => ({
    pk: partitions.finding(findingId),
    sk: `${SORT_PREFIX.writeback}${seqKey(seq)}`,
  }),
  localTicketPointer: (findingId: string) => ({ pk: partitions.finding(findingId), sk: '#LOCALTICKET' }),
  expiredException: (findingId: string, expiredAt: string) => ({
    pk: partitions.finding(findingId),
    sk: `EXPIRED_EXCEPTION#${expiredAt}`,
  }),
  alias: (aliasKey: string) => ({ pk: `ALIAS#${aliasKey}`, sk: '#ALIAS' }),
  quarantine: (digest: string) => ({ pk: partitions.quarantine, sk: digest }),
  cursor: (connector: string, scope: string) => ({ pk: `CURSOR#${connector}`, sk: scope }),
  localTicket: (key: string) => ({ pk: partitions.localTracker, sk: key }),
  localTicketCounter: () => ({ pk: partitions.localTracker, sk: '#COUNTER' }),
  webhookDelivery: (system: string, deliveryId: string) => ({ pk: `WEBHOOK#${system}`, sk: deliveryId }),
  webhookIgnored: (system: string) => ({ pk: `WEBHOOK#${system}`, sk: '#IGNORED' }),
  managedSecret: (arn: string) => ({ pk: partitions.managedSecret(arn), sk: '#STATE' }),
  managedSecretEvent: (arn: string, seq: number) => ({
    pk: partitions.managedSecret(arn),
    sk: `${SORT_PREFIX.event}${seqKey(seq)}`,
  }),
  managedSecretDelivery: (arn: string, deliveryId: string) => ({
    pk: partitions.managedSecret(arn),
    sk: `DELIVERY#${deliveryId}`,
  }),
  /** A notice beside its finding: `key` is the event's sequence number or `exception.expiring#<until>`. */
  findingNotice: (findingId: string, key: string) => ({ pk: partitions.finding(findingId), sk: `NOTICE#${key}` }),
  managedSecretNotice: (arn: string, key: string) => ({ pk: partitions.managedSecret(arn), sk: `NOTICE#${key}` }),
  /** A notice routed to one channel: queued (byTimer `QUEUE#<channel>`) until its digest is sent, then kept. */
  notificationDelivery: (channel: string, noticeId: string) => ({
    pk: partitions.channel(channel),
    sk: `DELIVERY#${noticeId}`,
  }),
  /** A channel's head: the digest it has open, at most one, so a channel gets one message per run. */
  notificationChannel: (channel: string) => ({ pk: partitions.channel(channel), sk: '#CHANNEL' }),
  /** A digest, open or sent (kept: what each channel was told, and when). */
  digest: (channel: string, digestId: string) => ({
    pk: partitions.channel(channel),
    sk: `${SORT_PREFIX.digest}${digestId}`,
  }),
  /** A fact about the table itself, e.g. that an index added later was filled for the items written before it. */
  meta: (what: string) => ({ pk: 'META', sk: what }),
} as const;

/** The sort-key part of a notice's key: an event's sequence number sorts as a number. */
export const noticeKey = (notice: { id: string; subject: string }) => {
  const rest = notice.id.slice(notice.subject.length + 1);
  return /^\d+$/.test(rest) ? seqKey(Number(rest)) : rest;
};

/** Alias of a ticket key (inbound webhooks find the finding by it). */
export const ticketAliasKey = (system: string, key: string) => `ticket:${system}:${key}`;

/**
 * Audit events are listed by day through byTimer, in EVENT_DAY_SHARDS partitions per day
 * (`EVENTDAY#<YYYY-MM-DD>#<shard>`, the shard from the finding id; sorted by time within each):
 * the auditor's "what happened in this period / by this actor" without a Scan. One partition
 * per day would take every event of a large ingest, with time-ordered sort keys that DynamoDB
 * cannot split, and its write limit would throttle the table; the shards spread that load.
 */
export const EVENT_DAY_SHARDS = 8;
/** The shard of a finding's (or managed secret's) events: FNV-1a of its id. */
export function eventDayShard(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return hash % EVENT_DAY_SHARDS;
}

/**
 * The sparse index of lifecycles to start is spread like the audit events of a day: every new
 * finding of a large ingest enters it (and leaves it at its start), which one partition would
 * take at its write limit; the sweep reads all shards at once.
 */
export const LIFECYCLE_START_SHARDS = EVENT_DAY_SHARDS;

const { byStatus, byOwnerDue, bySecretHash, byTimer, byScope } = GSI;

/** The index attributes an item carries to appear in an index partition (see INDEX_PARTITIONS). */
export const indexKeys = {
  status: (status: string, severityRank: number, due: string, id: string) => ({
    [byStatus.partitionKey]: partitions.status(status),
    [byStatus.sortKey]: `${severityRank}#${due}#${id}`,
  }),
  managedSecrets: (lastRotatedAt: string | undefined, arn: string) => ({
    [byStatus.partitionKey]: partitions.managedSecrets,
    [byStatus.sortKey]: `${lastRotatedAt ?? '0000'}#${arn}`,
  }),
  expiredExceptions: (expiredAt: string, findingId: string) => ({
    [byStatus.partitionKey]: partitions.expiredExceptions,
    [byStatus.sortKey]: `${expiredAt}#${findingId}`,
  }),
  openOf: (owner: string, due: string, id: string) => ({
    [byOwnerDue.partitionKey]: partitions.openOf(owner),
    [byOwnerDue.sortKey]: `${due}#${id}`,
  }),
  closedOf: (owner: string, closedAt: string, id: string) => ({
    [byOwnerDue.partitionKey]: partitions.closedOf(owner),
    [byOwnerDue.sortKey]: `${closedAt}#${id}`,
  }),
  acceptedOf: (owner: string, until: string, id: string) => ({
    [byOwnerDue.partitionKey]: partitions.acceptedOf(owner),
    [byOwnerDue.sortKey]: `${until}#${id}`,
  }),
  secret: (secretHash: string, id: string) => ({
    [bySecretHash.partitionKey]: `SECRET#${secretHash}`,
    [bySecretHash.sortKey]: id,
  }),
  timer: (timerAt: string, id: string) => ({
    [byTimer.partitionKey]: partitions.timer,
    [byTimer.sortKey]: `${timerAt}#${id}`,
  }),
  lifecycleStart: (since: string, id: string) => ({
    [byTimer.partitionKey]: partitions.lifecycleStart(eventDayShard(id) % LIFECYCLE_START_SHARDS),
    [byTimer.sortKey]: `${since}#${id}`,
  }),
  event: (event: { at: string; findingId: string; seq: number }) => ({
    [byTimer.partitionKey]: partitions.eventDay(event.at.slice(0, 10), eventDayShard(event.findingId)),
    [byTimer.sortKey]: `${event.at}#${event.findingId}#${seqKey(event.seq)}`,
  }),
  outbox: (work: { createdAt: string; findingId: string; seq: number }) => ({
    [byTimer.partitionKey]: partitions.outbox,
    [byTimer.sortKey]: `${work.createdAt}#${work.findingId}#${seqKey(work.seq)}`,
  }),
  writeback: (work: { nextAttemptAt: string; findingId: string; seq: number }) => ({
    [byTimer.partitionKey]: partitions.writeback,
    [byTimer.sortKey]: `${work.nextAttemptAt}#${work.findingId}#${seqKey(work.seq)}`,
  }),
  notice: (notice: { at: string; id: string; subject: string }) => ({
    [byTimer.partitionKey]: partitions.notify,
    [byTimer.sortKey]: `${notice.at}#${notice.subject}#${noticeKey(notice)}`,
  }),
  queued: (channel: string, notice: { at: string; id: string }) => ({
    [byTimer.partitionKey]: partitions.channelQueue(channel),
    [byTimer.sortKey]: `${notice.at}#${notice.id}`,
  }),
  /** A finding waiting for its owner's fix (core/finding/waiting.ts), in its scope's partition. */
  waiting: (scope: string, id: string) => ({
    [byScope.partitionKey]: partitions.waiting(scope),
    [byScope.sortKey]: id,
  }),
} as const;

/**
 * A KeyConditionExpression on an index partition, optionally with a sort-key condition
 * (`>= :since`, `<= :now`, `BETWEEN :from AND :to`) whose values go in `values`.
 */
export function onIndex(
  index: keyof typeof GSI,
  partition: string,
  sortKey?: { condition: string; values: Record<string, unknown> },
): TableQuery {
  const { name, partitionKey, sortKey: sk } = GSI[index];
  return {
    IndexName: name,
    KeyConditionExpression: sortKey ? `${partitionKey} = :pk AND ${sk} ${sortKey.condition}` : `${partitionKey} = :pk`,
    ExpressionAttributeValues: { ':pk': partition, ...sortKey?.values },
  };
}

/** One item type of the table: its `type` attribute and its key, as the README's storage table lists them. */
export interface ItemType {
  item: string;
  /** The `type` attribute it carries (the local tracker's counter has none). */
  type?: string;
  pk: string;
  sk: string;
}

/** Every item type the table holds. */
export const ITEM_TYPES: readonly ItemType[] = [
  { item: 'finding', type: 'finding', pk: 'FINDING#<id>', sk: '#FINDING' },
  { item: 'audit events of one write (page)', type: 'events', pk: 'FINDING#<id>', sk: 'EVENT#<first seq>' },
  // Earlier versions kept one item per work (`ticket_work`, keyed by its event's seq): still read.
  { item: 'ticket work of one write (outbox)', type: 'ticket_works', pk: 'FINDING#<id>', sk: 'TICKETWORK#<first seq>' },
  { item: 'ticket record (intent, key, lease)', type: 'ticket', pk: 'FINDING#<id>', sk: '#TICKET' },
  {
    item: 'scanner write-back (outbox)',
    type: 'writeback_work',
    pk: 'FINDING#<id>',
    sk: 'WRITEBACK#<event seq>',
  },
  {
    item: 'local tracker pointer (one ticket per finding)',
    type: 'local_ticket_pointer',
    pk: 'FINDING#<id>',
    sk: '#LOCALTICKET',
  },
  {
    item: 'expired exception (history, written with the reopening)',
    type: 'expired_exception',
    pk: 'FINDING#<id>',
    sk: 'EXPIRED_EXCEPTION#<expiredAt>',
  },
  { item: 'alias (external id or ticket key → finding)', type: 'alias', pk: 'ALIAS#<external id>', sk: '#ALIAS' },
  { item: 'quarantined record', type: 'quarantine', pk: 'QUARANTINE', sk: '<record digest>' },
  { item: 'pull cursor', type: 'cursor', pk: 'CURSOR#<connector>', sk: '<scope>' },
  { item: 'local tracker ticket', type: 'local_ticket', pk: 'TRACKER', sk: 'CL-<n>' },
  { item: 'local tracker counter', pk: 'TRACKER', sk: '#COUNTER' },
  {
    item: 'webhook delivery (`sha256:` its signed body, or `atlassian:` Jira’s delivery id)',
    type: 'webhook_delivery',
    pk: 'WEBHOOK#<system>',
    sk: '<kind>:<delivery id>',
  },
  {
    item: 'webhook events ignored, counted by reason',
    type: 'webhook_ignored',
    pk: 'WEBHOOK#<system>',
    sk: '#IGNORED',
  },
  { item: 'managed secret (rotations)', type: 'managed_secret', pk: 'MANAGED_SECRET#<arn>', sk: '#STATE' },
  { item: 'managed secret event', type: 'event', pk: 'MANAGED_SECRET#<arn>', sk: 'EVENT#<seq>' },
  { item: 'managed secret delivery', type: 'delivery', pk: 'MANAGED_SECRET#<arn>', sk: 'DELIVERY#<delivery id>' },
  {
    item: 'notice (what people are told: SLA breach, approval waiting, …)',
    type: 'notice',
    pk: 'FINDING#<id>',
    sk: 'NOTICE#<event seq or exception.expiring#until>',
  },
  { item: 'managed secret notice', type: 'notice', pk: 'MANAGED_SECRET#<arn>', sk: 'NOTICE#<event seq>' },
  {
    item: 'notice routed to a channel (queued until sent, then kept)',
    type: 'notification_delivery',
    pk: 'NOTIFY#<channel>',
    sk: 'DELIVERY#<notice id>',
  },
  {
    item: 'notification channel (its open digest)',
    type: 'notification_channel',
    pk: 'NOTIFY#<channel>',
    sk: '#CHANNEL',
  },
  { item: 'digest (open, then sent; kept)', type: 'digest', pk: 'NOTIFY#<channel>', sk: 'DIGEST#<digest id>' },
  {
    item: 'table fact (an index filled for the items written before it)',
    type: 'meta',
    pk: 'META',
    sk: '<fact>',
  },
];

/** One family of index partitions, as the README's index table lists them. */
export interface IndexPartition {
  index: keyof typeof GSI;
  pk: string;
  sk: string;
}

/** Every family of index partitions the items write. */
export const INDEX_PARTITIONS: readonly IndexPartition[] = [
  { index: 'byStatus', pk: 'STATUS#<status>', sk: '<severity rank>#<due>#<id>' },
  { index: 'byStatus', pk: 'MANAGED_SECRETS', sk: '<last rotated>#<arn>' },
  { index: 'byStatus', pk: 'EXCEPTIONS#expired', sk: '<expiredAt>#<id>' },
  { index: 'byOwnerDue', pk: 'OWNER#<owner>', sk: '<due>#<id>' },
  { index: 'byOwnerDue', pk: 'CLOSED#<owner>', sk: '<closedAt>#<id>' },
  { index: 'byOwnerDue', pk: 'ACCEPTED#<owner>', sk: '<until>#<id>' },
  { index: 'bySecretHash', pk: 'SECRET#<hmac>', sk: '<id>' },
  { index: 'byTimer', pk: 'TIMER', sk: '<timerAt>#<id>' },
  { index: 'byTimer', pk: 'LIFECYCLE#start#<0-7>', sk: '<first seen or reopened>#<id>' },
  { index: 'byTimer', pk: 'EVENTDAY#<YYYY-MM-DD>#<0-7>', sk: '<at>#<id>#<seq>' },
  { index: 'byTimer', pk: 'OUTBOX', sk: '<createdAt>#<id>#<first seq>' },
  { index: 'byTimer', pk: 'WRITEBACK', sk: '<next attempt>#<id>#<seq>' },
  { index: 'byTimer', pk: 'NOTIFY', sk: '<at>#<subject>#<notice key>' },
  { index: 'byTimer', pk: 'QUEUE#<channel>', sk: '<at>#<notice id>' },
  { index: 'byScope', pk: 'WAITING#<scope>', sk: '<id>' },
];

/** CreateTable input for DynamoDB (local or real): on-demand, all keys strings, GSIs project all but byScope. */
export function createTableInput(tableName: string) {
  const attributes = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey]);
  for (const index of INDEXES) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: INDEXES.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: projectionOf(index),
    })),
  };
}

/** DynamoDB said no after every retry. */
export class StoreUnavailableError extends CloseloopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** The retry policy for what DynamoDB leaves unprocessed or cancels under load. */
export const STORE_RETRY = {
  /** Attempts after the first before giving up with StoreUnavailableError. */
  maxRetries: 8,
  delayMs: (attempt: number) => backoffDelayMs(attempt),
} as const;

const MAX_BATCH_GET = 100;
/** BatchWriteItem calls one batchPut keeps in flight. */
const BATCH_WRITES_IN_FLIGHT = 4;
const MAX_BATCH_WRITE = 25;

export type Item = Record<string, unknown>;
export type Key = { pk: string; sk: string };
/** A Query of this table (its name is filled in). */
export type TableQuery = Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>;

/**
 * The table and its one client: a document client (undefined attributes dropped) over the
 * process's DynamoDB client, with paging and batch retries done once, here.
 */
export class SingleTable {
  readonly doc: DynamoDBDocumentClient;
  /** Concurrent single-item requests go out merged (the local hub): a request shaped to merge is then cheaper than one that returns values. */
  readonly mergesRequests: boolean;

  constructor(
    readonly client: DynamoDBClient,
    readonly name: string,
    /** Group commit of concurrent single-item requests: the local hub's, never a Lambda's (see group-commit.ts). */
    options: { groupCommit?: GroupCommitOptions } = {},
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    if (options.groupCommit) GroupCommit.install(this.doc, options.groupCommit);
    this.mergesRequests = options.groupCommit !== undefined;
  }

  /** Every page of a Query, in order. */
  async *pages(query: TableQuery): AsyncGenerator<QueryCommandOutput> {
    let start: Item | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({ TableName: this.name, ...query, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      yield page;
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** Every item a Query matches, following LastEvaluatedKey. */
  async queryAll(query: TableQuery): Promise<Item[]> {
    const items: Item[] = [];
    for await (const page of this.pages(query)) items.push(...(page.Items ?? []));
    return items;
  }

  /**
   * Every item of the base table, in `segments` parallel Scan segments, consistent, page by page
   * to `visit`. Only for what must see items whatever their index keys say (`audit verify`, the
   * digest writer); reports Query the indexes.
   */
  async scan(
    input: Omit<ScanCommandInput, 'TableName' | 'Segment' | 'TotalSegments' | 'ExclusiveStartKey' | 'ConsistentRead'>,
    visit: (items: Item[]) => void,
    segments = 4,
  ): Promise<void> {
    await Promise.all(
      Array.from({ length: segments }, async (_, segment) => {
        let start: Item | undefined;
        do {
          const page = await this.doc.send(
            new ScanCommand({
              TableName: this.name,
              ...input,
              ConsistentRead: true,
              Segment: segment,
              TotalSegments: segments,
              ...(start ? { ExclusiveStartKey: start } : {}),
            }),
          );
          visit(page.Items ?? []);
          start = page.LastEvaluatedKey;
        } while (start);
      }),
    );
  }

  /** BatchGetItem in chunks of 100, UnprocessedKeys retried under backoff; consistent reads, of `attributes` only if given. */
  async batchGet(keyList: readonly Key[], attributes?: readonly string[]): Promise<Item[]> {
    const projection = attributes
      ? {
          ProjectionExpression: attributes.map((_, i) => `#p${i}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(attributes.map((name, i) => [`#p${i}`, name])),
        }
      : {};
    const items: Item[] = [];
    for (let i = 0; i < keyList.length; i += MAX_BATCH_GET) {
      let pending: Item[] = keyList.slice(i, i + MAX_BATCH_GET);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > STORE_RETRY.maxRetries)
          throw new StoreUnavailableError(`DynamoDB left ${pending.length} keys unprocessed after ${attempt} attempts`);
        if (attempt > 0) await sleep(STORE_RETRY.delayMs(attempt));
        const out = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.name]: { Keys: pending, ConsistentRead: true, ...projection } },
          }),
        );
        items.push(...(out.Responses?.[this.name] ?? []));
        pending = (out.UnprocessedKeys?.[this.name]?.Keys as Item[] | undefined) ?? [];
      }
    }
    return items;
  }

  /**
   * BatchWriteItem of whole items in chunks of 25, up to 4 calls in flight, UnprocessedItems
   * retried under backoff. Only for unguarded items (each key at most once).
   */
  async batchPut(items: readonly Item[]): Promise<void> {
    const chunks: Item[][] = [];
    for (let i = 0; i < items.length; i += MAX_BATCH_WRITE) chunks.push(items.slice(i, i + MAX_BATCH_WRITE) as Item[]);
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) await this.batchPutChunk(chunks[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_WRITES_IN_FLIGHT, chunks.length) }, worker));
  }

  private async batchPutChunk(chunk: Item[]): Promise<void> {
    let pending: Item[] = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > STORE_RETRY.maxRetries)
        throw new StoreUnavailableError(`DynamoDB left ${pending.length} writes unprocessed after ${attempt} attempts`);
      if (attempt > 0) await sleep(STORE_RETRY.delayMs(attempt));
      const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.name]: pending } }));
      pending = (out.UnprocessedItems?.[this.name] as Item[] | undefined) ?? [];
    }
  }
}
