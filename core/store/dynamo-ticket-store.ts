import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { FindingWrite } from '../finding/ports';
import { CloseloopError } from '../shared/errors';
import { findingWriteItems, pageBeforeReplacing, rememberHead } from './dynamo-finding-store';
import { ticketLabel, TicketRecordSchema, type SinkRef, type TicketRecord, type TicketWork } from '../tickets/model';
import type { StagedTicket, TicketStore } from '../tickets/ports';
import { indexKeys, keys, onIndex, partitions, ticketAliasKey, type Item, type SingleTable } from './table';
import { donePage, pendingWorksOf } from './work-pages';

/** A ticket already has a different key: two issues for one finding would be the bug this prevents. */
export class TicketKeyConflictError extends CloseloopError {
  constructor(findingId: string, existing: string, offered: string, options?: ErrorOptions) {
    super(`${findingId} already has ticket ${existing}; refusing to record ${offered}`, options);
    this.name = 'TicketKeyConflictError';
  }
}

const isConditionFailure = (err: unknown) => err instanceof ConditionalCheckFailedException;
type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** The outbox, ticket records, ticket-key aliases and webhook deliveries, on the one table. */
export class DynamoTicketStore implements TicketStore {
  private readonly doc: SingleTable['doc'];
  private readonly tableName: string;

  constructor(private readonly table: SingleTable) {
    this.doc = table.doc;
    this.tableName = table.name;
  }

  async pendingWork(limit: number): Promise<TicketWork[]> {
    const out = await this.doc.send(
      new QueryCommand({ TableName: this.tableName, ...onIndex('byTimer', partitions.outbox), Limit: limit }),
    );
    return (out.Items ?? []).flatMap(pendingWorksOf);
  }

  async countPending(cap = 10_000): Promise<number> {
    let count = 0;
    for await (const page of this.table.pages({ ...onIndex('byTimer', partitions.outbox), Select: 'COUNT' })) {
      count += page.Count ?? 0;
      if (count >= cap) break;
    }
    return count;
  }

  /** The item a work is kept in: its write's page, or (earlier versions) an item of its own. */
  private workKey(work: TicketWork) {
    return keys.ticketWork(work.findingId, work.page?.seq ?? work.seq);
  }

  /** The attribute path of a work's field inside its item. */
  private static path(work: TicketWork, field: string) {
    return work.page ? `works[${work.page.index}].${field}` : field;
  }

  async markWorkAttempted(work: TicketWork, batch: string): Promise<void> {
    const batchPath = work.page ? `works[${work.page.index}].#batch` : '#batch';
    const attempts = DynamoTicketStore.path(work, 'attempts');
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.workKey(work),
        UpdateExpression: `SET ${batchPath} = if_not_exists(${batchPath}, :batch), ${attempts} = if_not_exists(${attempts}, :zero) + :one`,
        ExpressionAttributeNames: { '#batch': 'batch' },
        ExpressionAttributeValues: { ':one': 1, ':zero': 0, ':batch': batch },
      }),
    );
  }

  async completeWork(works: TicketWork[], at: string): Promise<void> {
    // Without its index keys a work is out of the outbox; the item stays as a record of what was
    // sent. The lease holder is its only writer, so a batched put (no condition, no transaction,
    // and on DynamoDB Local no table lock) does what a guarded update would: for an item of one
    // work, and for a page all of whose works are done in this call (a ticket's first sync).
    const whole: Item[] = [];
    const partial: TicketWork[][] = [];
    const pages = new Map<string, TicketWork[]>();
    for (const work of works) {
      if (!work.page) {
        const { lastError: _cleared, page: _none, ...rest } = work;
        whole.push({ ...this.workKey(work), type: 'ticket_work', ...rest, state: 'done', doneAt: at });
        continue;
      }
      const id = `${work.findingId}#${work.page.seq}`;
      pages.set(id, [...(pages.get(id) ?? []), work]);
    }
    for (const page of pages.values()) {
      page.sort((a, b) => a.page!.index - b.page!.index);
      const complete = page.length === page[0]!.page!.of && page.every((w, i) => w.page!.index === i);
      if (complete) whole.push(donePage(page, at));
      else partial.push(page);
    }
    await Promise.all([this.table.batchPut(whole), ...partial.map((page) => this.completePart(page, at))]);
  }

  /** Some works of a page are done: they are marked so; once all are, the page leaves the outbox. */
  private async completePart(page: TicketWork[], at: string): Promise<void> {
    const sets = page.flatMap((w) => [
      `works[${w.page!.index}].#state = :done`,
      `works[${w.page!.index}].doneAt = :at`,
      `works[${w.page!.index}].attempts = :a${w.page!.index}`,
      ...(w.batch ? [`works[${w.page!.index}].#batch = :b${w.page!.index}`] : []),
    ]);
    const values: Record<string, unknown> = { ':done': 'done', ':at': at };
    for (const w of page) {
      values[`:a${w.page!.index}`] = w.attempts;
      if (w.batch) values[`:b${w.page!.index}`] = w.batch;
    }
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.workKey(page[0]!),
        UpdateExpression: `SET ${sets.join(', ')} REMOVE ${page.map((w) => `works[${w.page!.index}].lastError`).join(', ')}`,
        ExpressionAttributeNames: { '#state': 'state', ...(page.some((w) => w.batch) ? { '#batch': 'batch' } : {}) },
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    const stored = (out.Attributes?.works ?? []) as Item[];
    if (stored.length === 0 || stored.some((w) => w.state !== 'done')) return;
    const index = Object.keys(indexKeys.outbox({ createdAt: at, findingId: page[0]!.findingId, seq: 1 }));
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.workKey(page[0]!),
        UpdateExpression: `SET #state = :done, doneAt = :at REMOVE ${index.map((_, i) => `#i${i}`).join(', ')}`,
        ExpressionAttributeNames: {
          '#state': 'state',
          ...Object.fromEntries(index.map((name, i) => [`#i${i}`, name])),
        },
        ExpressionAttributeValues: { ':done': 'done', ':at': at },
      }),
    );
  }

  async failWork(work: TicketWork, error: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.workKey(work),
        UpdateExpression: `SET ${DynamoTicketStore.path(work, 'lastError')} = :e`,
        ExpressionAttributeValues: { ':e': error.slice(0, 500) },
      }),
    );
  }

  async tickets(findingIds: string[]): Promise<Map<string, TicketRecord>> {
    const found = new Map<string, TicketRecord>();
    for (const item of await this.table.batchGet([...new Set(findingIds)].map(keys.ticket))) {
      const record = TicketRecordSchema.parse(item);
      found.set(record.findingId, record);
    }
    return found;
  }

  async claimTicket(
    findingId: string,
    sink: SinkRef,
    worker: string,
    now: string,
    leaseUntil: string,
  ): Promise<TicketRecord | undefined> {
    // With merged requests (the local hub), a claim that returns nothing shares a call with others'
    // and the record is read after it (the lease is ours, so that read is the record as claimed);
    // alone (a Lambda), one request that returns the record is cheaper.
    const merges = this.table.mergesRequests;
    let claimed: Record<string, unknown> | undefined;
    try {
      // Free when nobody ever held it, the lease ran out, or this worker holds it already.
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.ticket(findingId),
          UpdateExpression:
            'SET #type = :type, findingId = :id, #label = if_not_exists(#label, :label), #sink = if_not_exists(#sink, :sink), leaseOwner = :worker, leaseUntil = :until',
          ConditionExpression:
            'attribute_not_exists(pk) OR attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :worker',
          ExpressionAttributeNames: { '#type': 'type', '#label': 'label', '#sink': 'sink' },
          ExpressionAttributeValues: {
            ':type': 'ticket',
            ':id': findingId,
            ':label': ticketLabel(findingId),
            ':sink': sink,
            ':worker': worker,
            ':until': leaseUntil,
            ':now': now,
          },
          ...(merges ? {} : { ReturnValues: 'ALL_NEW' as const }),
        }),
      );
      claimed = out.Attributes;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
    if (merges)
      claimed = (
        await this.doc.send(
          new GetCommand({ TableName: this.tableName, Key: keys.ticket(findingId), ConsistentRead: true }),
        )
      ).Item;
    return TicketRecordSchema.parse(claimed);
  }

  async markCreateSent(findingId: string, worker: string, at: string, foldedThrough: number): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.ticket(findingId),
        UpdateExpression:
          'SET createOutcome = :uncertain, lastAttemptAt = :at, foldedThrough = :folded ADD createAttempts :one',
        // Only the lease holder records an attempt; a worker whose lease expired mid-call must not.
        ConditionExpression: 'leaseOwner = :worker AND attribute_not_exists(#key)',
        ExpressionAttributeNames: { '#key': 'key' },
        ExpressionAttributeValues: {
          ':uncertain': 'uncertain',
          ':at': at,
          ':one': 1,
          ':worker': worker,
          ':folded': foldedThrough,
        },
      }),
    );
  }

  async recordTicketKey(
    findingId: string,
    system: SinkRef['kind'],
    key: string,
    url: string | undefined,
  ): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.ticket(findingId),
          UpdateExpression: url
            ? 'SET #key = :key, createOutcome = :created, #url = :url REMOVE lastError'
            : 'SET #key = :key, createOutcome = :created REMOVE lastError',
          ConditionExpression: 'attribute_not_exists(#key) OR #key = :key',
          ExpressionAttributeNames: { '#key': 'key', ...(url ? { '#url': 'url' } : {}) },
          ExpressionAttributeValues: { ':key': key, ':created': 'created', ...(url ? { ':url': url } : {}) },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const existing = (await this.tickets([findingId])).get(findingId)?.key ?? '?';
      throw new TicketKeyConflictError(findingId, existing, key, { cause: err });
    }
    // The alias is how a webhook's ticket key finds its finding; the local tracker sends none.
    if (system === 'local') return;
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.alias(ticketAliasKey(system, key)),
          type: 'alias',
          aliasKey: ticketAliasKey(system, key),
          findingId,
        },
      }),
    );
  }

  async markCreateRejected(findingId: string, reason: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.ticket(findingId),
        UpdateExpression: 'SET createOutcome = :rejected, lastError = :reason',
        ExpressionAttributeValues: { ':rejected': 'rejected', ':reason': reason.slice(0, 500) },
      }),
    );
  }

  async recordStoredTicket(
    ticket: StagedTicket,
    context: { sink: SinkRef; worker: string; now: string; foldedThrough: number; link: FindingWrite | undefined },
  ): Promise<'created' | 'taken' | 'exists' | 'changed'> {
    const { findingId, key } = ticket;
    const record: TransactItem = {
      Update: {
        TableName: this.tableName,
        Key: keys.ticket(findingId),
        UpdateExpression:
          'SET #type = :type, findingId = :id, #label = if_not_exists(#label, :label), #sink = if_not_exists(#sink, :sink), #key = :key, createOutcome = :created, foldedThrough = :folded, lastAttemptAt = :now ADD createAttempts :one REMOVE lastError',
        // As a claim would take it, and as `markCreateSent` requires: no key, no create in flight.
        ConditionExpression:
          'attribute_not_exists(pk) OR (attribute_not_exists(#key) AND (attribute_not_exists(createOutcome) OR createOutcome = :notSent) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :worker))',
        ExpressionAttributeNames: { '#type': 'type', '#label': 'label', '#sink': 'sink', '#key': 'key' },
        ExpressionAttributeValues: {
          ':type': 'ticket',
          ':id': findingId,
          ':label': ticketLabel(findingId),
          ':sink': context.sink,
          ':key': key,
          ':created': 'created',
          ':folded': context.foldedThrough,
          ':now': context.now,
          ':one': 1,
          ':notSent': 'not_sent',
          ':worker': context.worker,
        },
      },
    };
    const sinkItems = ticket.writes as TransactItem[];
    const linkItems = context.link ? findingWriteItems(this.tableName, context.link) : [];
    if (context.link) await pageBeforeReplacing(this.table, [context.link]);
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: [record, ...sinkItems, ...linkItems] }));
      // The link's head carries no events of its own (its page was in the transaction).
      if (context.link)
        rememberHead(this.table, context.link.finding.id, {
          version: context.link.finding.version,
          events: [],
          paged: true,
        });
      return 'created';
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const failed = (index: number) => err.CancellationReasons?.[index]?.Code === 'ConditionalCheckFailed';
      if (failed(0)) return 'taken';
      if (failed(1)) return 'exists';
      if (linkItems.length > 0 && failed(sinkItems.length + 1)) return 'changed';
      throw err;
    }
  }

  async releaseTicket(findingId: string, worker: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.ticket(findingId),
          UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
          ConditionExpression: 'leaseOwner = :worker',
          ExpressionAttributeValues: { ':worker': worker },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // the lease had expired and moved on: nothing to release
    }
  }

  async findingForTicketKey(system: string, key: string): Promise<string | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.alias(ticketAliasKey(system, key)),
        ConsistentRead: true,
      }),
    );
    return out.Item ? String(out.Item.findingId) : undefined;
  }

  async recordDelivery(source: string, deliveryId: string, at: string): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.webhookDelivery(source, deliveryId),
            type: 'webhook_delivery',
            receivedAt: at,
            state: 'received',
          },
          // A delivery whose processing failed may be sent again; one that went through may not.
          ConditionExpression: 'attribute_not_exists(pk) OR #state = :failed',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':failed': 'failed' },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async countIgnored(source: string, reason: string, at: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.webhookIgnored(source),
        UpdateExpression: 'SET #type = :type, lastAt = :at ADD #reason :one, #total :one',
        ExpressionAttributeNames: { '#type': 'type', '#reason': `ignored_${reason}`, '#total': 'ignored_total' },
        ExpressionAttributeValues: { ':type': 'webhook_ignored', ':at': at, ':one': 1 },
      }),
    );
  }

  async ignoredCounts(source: string): Promise<Record<string, number>> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.webhookIgnored(source), ConsistentRead: true }),
    );
    const counts: Record<string, number> = {};
    for (const [k, v] of Object.entries(out.Item ?? {}))
      if (k.startsWith('ignored_') && typeof v === 'number') counts[k.slice('ignored_'.length)] = v;
    return counts;
  }

  async forgetDelivery(source: string, deliveryId: string): Promise<void> {
    // Kept (marked failed) rather than deleted: the record of every delivery stays.
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.webhookDelivery(source, deliveryId),
        UpdateExpression: 'SET #state = :failed',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':failed': 'failed' },
      }),
    );
  }
}
