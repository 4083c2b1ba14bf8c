import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DeliverySchema, DigestSchema, NoticeSchema, type Delivery, type Digest, type Notice } from '../notify/model';
import type { NotificationStore, OpenDigest } from '../notify/ports';
import { SORT_PREFIX, indexKeys, keys, noticeKey, onIndex, partitions, type Item, type SingleTable } from './table';

/** TransactWriteItems takes at most 100 items. */
const MAX_TRANSACTION_ITEMS = 100;

const noticeItemKey = (notice: Pick<Notice, 'id' | 'subject' | 'subjectKind'>) =>
  notice.subjectKind === 'finding'
    ? keys.findingNotice(notice.subject, noticeKey(notice))
    : keys.managedSecretNotice(notice.subject, noticeKey(notice));

/** A pending notice: beside its finding (or managed secret), and in byTimer's NOTIFY partition until routed. */
export const toNoticeItem = (notice: Notice): Item => ({
  ...noticeItemKey(notice),
  type: 'notice',
  ...notice,
  state: 'pending',
  ...indexKeys.notice(notice),
});

const conditionFailed = (err: unknown) =>
  err instanceof ConditionalCheckFailedException ||
  (err instanceof TransactionCanceledException &&
    (err.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed'));

function fromOpenItem(item: Item): OpenDigest {
  return {
    digest: DigestSchema.parse(item.digest),
    state: item.state as OpenDigest['state'],
    attempts: Number(item.attempts ?? 0),
    uncertain: item.uncertain === true,
    ...(typeof item.leaseOwner === 'string' ? { leaseOwner: item.leaseOwner } : {}),
    ...(typeof item.leaseUntil === 'string' ? { leaseUntil: item.leaseUntil } : {}),
    ...(typeof item.lastError === 'string' ? { lastError: item.lastError } : {}),
  };
}

/**
 * Notices, channel queues and digests on the one table, nothing ever deleted. A notice leaves the
 * NOTIFY partition in the transaction that queues its deliveries; a channel's head names its one
 * open digest, claimed under a lease to send; once sent, its deliveries leave the channel's queue
 * and the head is cleared, the digest and deliveries kept as the record of who was told what.
 */
export class DynamoNotificationStore implements NotificationStore {
  constructor(private readonly table: SingleTable) {}

  async pendingNotices(limit: number): Promise<Notice[]> {
    const out = await this.table.doc.send(
      new QueryCommand({ TableName: this.table.name, ...onIndex('byTimer', partitions.notify), Limit: limit }),
    );
    return (out.Items ?? []).map((item) => NoticeSchema.parse(item));
  }

  async addNotices(notices: Notice[]): Promise<number> {
    let added = 0;
    for (const notice of notices) {
      try {
        await this.table.doc.send(
          new PutCommand({
            TableName: this.table.name,
            Item: toNoticeItem(notice),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        added++;
      } catch (err) {
        if (!conditionFailed(err)) throw err;
      }
    }
    return added;
  }

  async routeToNone(notices: Notice[], at: string): Promise<void> {
    // As `route` leaves it with no delivery: routed, out of the NOTIFY partition.
    await this.table.batchPut(
      notices.map((notice) => ({
        ...noticeItemKey(notice),
        type: 'notice',
        ...notice,
        state: 'routed',
        routedAt: at,
        routedTo: [],
      })),
    );
  }

  async route(notice: Notice, deliveries: Delivery[], at: string): Promise<boolean> {
    if (deliveries.length + 1 > MAX_TRANSACTION_ITEMS)
      throw new RangeError(`a notice goes to at most ${MAX_TRANSACTION_ITEMS - 1} channels`);
    try {
      await this.table.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              // Leaving the NOTIFY partition and queueing its deliveries happen together, once:
              // a second worker's transaction fails on the state and writes nothing.
              Update: {
                TableName: this.table.name,
                Key: noticeItemKey(notice),
                UpdateExpression: 'SET #state = :routed, routedAt = :at, routedTo = :to REMOVE gsi4pk, gsi4sk',
                ConditionExpression: '#state = :pending',
                ExpressionAttributeNames: { '#state': 'state' },
                ExpressionAttributeValues: {
                  ':routed': 'routed',
                  ':pending': 'pending',
                  ':at': at,
                  ':to': deliveries.map((d) => d.channel),
                },
              },
            },
            ...deliveries.map((d) => ({
              Put: {
                TableName: this.table.name,
                Item: {
                  ...keys.notificationDelivery(d.channel, d.notice.id),
                  type: 'notification_delivery',
                  ...d,
                  ...indexKeys.queued(d.channel, d.notice),
                },
              },
            })),
          ],
        }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }

  async queued(channel: string, limit: number): Promise<{ deliveries: Delivery[]; total: number }> {
    const query = onIndex('byTimer', partitions.channelQueue(channel));
    const out = await this.table.doc.send(new QueryCommand({ TableName: this.table.name, ...query, Limit: limit }));
    const listed = (out.Items ?? []).map((item) => DeliverySchema.parse(item));
    // The index lags the table: a delivery whose digest was just sent may still be listed. Read
    // each one back (consistent) and keep only those still unsent, or it would be sent twice.
    const current = await this.table.batchGet(listed.map((d) => keys.notificationDelivery(channel, d.notice.id)));
    const unsent = new Set(current.filter((i) => i.sentAt === undefined).map((i) => String(i.sk)));
    const deliveries = listed.filter((d) => unsent.has(keys.notificationDelivery(channel, d.notice.id).sk));
    let total = deliveries.length;
    if (out.LastEvaluatedKey) {
      total = 0;
      for await (const page of this.table.pages({ ...query, Select: 'COUNT' })) total += page.Count ?? 0;
    }
    return { deliveries, total };
  }

  async openDigest(channel: string): Promise<OpenDigest | undefined> {
    const head = await this.table.doc.send(
      new GetCommand({ TableName: this.table.name, Key: keys.notificationChannel(channel), ConsistentRead: true }),
    );
    const open = head.Item?.open;
    if (typeof open !== 'string') return undefined;
    const out = await this.table.doc.send(
      new GetCommand({ TableName: this.table.name, Key: keys.digest(channel, open), ConsistentRead: true }),
    );
    return out.Item ? fromOpenItem(out.Item) : undefined;
  }

  async createDigest(digest: Digest): Promise<boolean> {
    try {
      await this.table.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              // The channel's head names its one open digest: a second one is refused here.
              Update: {
                TableName: this.table.name,
                Key: keys.notificationChannel(digest.channel),
                UpdateExpression: 'SET #open = :id, #type = :type',
                ConditionExpression: 'attribute_not_exists(#open)',
                ExpressionAttributeNames: { '#open': 'open', '#type': 'type' },
                ExpressionAttributeValues: { ':id': digest.id, ':type': 'notification_channel' },
              },
            },
            {
              Put: {
                TableName: this.table.name,
                Item: {
                  ...keys.digest(digest.channel, digest.id),
                  type: 'digest',
                  digest,
                  state: 'pending',
                  attempts: 0,
                  uncertain: false,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }

  async claimDigest(
    observed: OpenDigest,
    worker: string,
    now: string,
    leaseUntil: string,
  ): Promise<OpenDigest | undefined> {
    if (observed.state === 'sent') return undefined;
    const abandoned = observed.state === 'sending';
    if (abandoned && (observed.leaseUntil ?? '') >= now) return undefined; // its sender is still at it
    try {
      const out = await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.digest(observed.digest.channel, observed.digest.id),
          // A sender whose lease expired may have delivered before it stopped: uncertain from now on.
          UpdateExpression:
            'SET #state = :sending, leaseOwner = :worker, leaseUntil = :until, attempts = :next, uncertain = :uncertain',
          ConditionExpression: '#digest.#id = :id AND attempts = :attempts AND #state = :observed',
          ExpressionAttributeNames: { '#state': 'state', '#digest': 'digest', '#id': 'id' },
          ExpressionAttributeValues: {
            ':sending': 'sending',
            ':worker': worker,
            ':until': leaseUntil,
            ':next': observed.attempts + 1,
            ':uncertain': observed.uncertain || abandoned,
            ':id': observed.digest.id,
            ':attempts': observed.attempts,
            ':observed': observed.state,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? fromOpenItem(out.Attributes) : undefined;
    } catch (err) {
      if (conditionFailed(err)) return undefined;
      throw err;
    }
  }

  async digestFailed(channel: string, digestId: string, worker: string, error: string, uncertain: boolean) {
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.digest(channel, digestId),
          UpdateExpression:
            'SET #state = :pending, lastError = :error, uncertain = :uncertain REMOVE leaseOwner, leaseUntil',
          ConditionExpression: '#digest.#id = :id AND leaseOwner = :worker',
          ExpressionAttributeNames: { '#state': 'state', '#digest': 'digest', '#id': 'id' },
          ExpressionAttributeValues: {
            ':pending': 'pending',
            ':error': error,
            ':uncertain': uncertain,
            ':id': digestId,
            ':worker': worker,
          },
        }),
      );
    } catch (err) {
      // The lease expired and another worker took the digest over: its record is theirs now.
      if (!conditionFailed(err)) throw err;
    }
  }

  async digestSent(digest: Digest, at: string): Promise<void> {
    const out = await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.digest(digest.channel, digest.id),
        UpdateExpression: 'SET #state = :sent, sentAt = if_not_exists(sentAt, :at) REMOVE leaseOwner, leaseUntil',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':sent': 'sent', ':at': at },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const sentAt = String(out.Attributes?.sentAt ?? at);
    // Its deliveries leave the queue (they stay, as the record of what was sent in which digest);
    // the head last, so a stop in between finds the digest `sent` and finishes this, sending nothing.
    const updates = digest.notices.map((n) => ({
      Update: {
        TableName: this.table.name,
        Key: keys.notificationDelivery(digest.channel, n.id),
        UpdateExpression: 'SET sentAt = :at, digestId = :id REMOVE gsi4pk, gsi4sk',
        ExpressionAttributeValues: { ':at': sentAt, ':id': digest.id },
      },
    }));
    while (updates.length > 0)
      await this.table.doc.send(new TransactWriteCommand({ TransactItems: updates.splice(0, MAX_TRANSACTION_ITEMS) }));
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.notificationChannel(digest.channel),
          UpdateExpression: 'SET lastSentAt = :at REMOVE #open',
          ConditionExpression: '#open = :id',
          ExpressionAttributeNames: { '#open': 'open' },
          ExpressionAttributeValues: { ':id': digest.id, ':at': sentAt },
        }),
      );
    } catch (err) {
      if (!conditionFailed(err)) throw err; // cleared already
    }
  }

  /** A channel's sent digests, oldest first (what it was told: for auditors and tests). */
  async sentDigests(channel: string): Promise<Array<{ digestId: string; sentAt: string; notices: string[] }>> {
    const items = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :d)',
      ExpressionAttributeValues: { ':pk': partitions.channel(channel), ':d': SORT_PREFIX.digest },
      ConsistentRead: true,
    });
    return items
      .filter((i) => i.state === 'sent')
      .map((i) => {
        const digest = DigestSchema.parse(i.digest);
        return { digestId: digest.id, sentAt: String(i.sentAt), notices: digest.notices.map((n) => n.id) };
      })
      .sort((a, b) => a.sentAt.localeCompare(b.sentAt) || a.digestId.localeCompare(b.digestId));
  }
}
