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
 * Notices, channel queues and digests on the one table. A notice leaves the NOTIFY partition in
 * the transaction that queues its deliveries; a channel has at most one open digest (`#DIGEST`),
 * claimed under a lease to send, and cleared (queue entries deleted, history written) after.
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
                  ...keys.notificationDelivery(d.channel, d.notice.at, d.notice.id),
                  type: 'notification_delivery',
                  ...d,
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
    const query = {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :q)',
      ExpressionAttributeValues: { ':pk': partitions.channel(channel), ':q': SORT_PREFIX.queued },
      ConsistentRead: true,
    };
    const out = await this.table.doc.send(new QueryCommand({ TableName: this.table.name, ...query, Limit: limit }));
    const deliveries = (out.Items ?? []).map((item) => DeliverySchema.parse(item));
    let total = deliveries.length;
    if (out.LastEvaluatedKey) {
      total = 0;
      for await (const page of this.table.pages({ ...query, Select: 'COUNT' })) total += page.Count ?? 0;
    }
    return { deliveries, total };
  }

  async openDigest(channel: string): Promise<OpenDigest | undefined> {
    const out = await this.table.doc.send(
      new GetCommand({ TableName: this.table.name, Key: keys.openDigest(channel), ConsistentRead: true }),
    );
    return out.Item ? fromOpenItem(out.Item) : undefined;
  }

  async createDigest(digest: Digest): Promise<boolean> {
    try {
      await this.table.doc.send(
        new PutCommand({
          TableName: this.table.name,
          Item: {
            ...keys.openDigest(digest.channel),
            type: 'digest',
            digest,
            state: 'pending',
            attempts: 0,
            uncertain: false,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
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
          Key: keys.openDigest(observed.digest.channel),
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
          Key: keys.openDigest(channel),
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
    const open = keys.openDigest(digest.channel);
    let sentAt = at;
    try {
      const out = await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: open,
          UpdateExpression: 'SET #state = :sent, sentAt = if_not_exists(sentAt, :at) REMOVE leaseOwner, leaseUntil',
          ConditionExpression: '#digest.#id = :id',
          ExpressionAttributeNames: { '#state': 'state', '#digest': 'digest', '#id': 'id' },
          ExpressionAttributeValues: { ':sent': 'sent', ':at': at, ':id': digest.id },
          ReturnValues: 'ALL_NEW',
        }),
      );
      sentAt = String(out.Attributes?.sentAt ?? at);
    } catch (err) {
      if (conditionFailed(err)) return; // cleared already: the history holds it
      throw err;
    }
    const deletes = digest.notices.map((n) => ({
      Delete: { TableName: this.table.name, Key: keys.notificationDelivery(digest.channel, n.at, n.id) },
    }));
    // The queue entries go first; the open digest last, with the history, so a stop in between
    // finds the digest `sent` and finishes clearing it without sending it again.
    const room = MAX_TRANSACTION_ITEMS - 2;
    while (deletes.length > room)
      await this.table.doc.send(new TransactWriteCommand({ TransactItems: deletes.splice(0, room) }));
    await this.table.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          ...deletes,
          {
            Put: {
              TableName: this.table.name,
              Item: {
                ...keys.sentDigest(digest.channel, sentAt, digest.id),
                type: 'digest_sent',
                channel: digest.channel,
                digestId: digest.id,
                sentAt,
                title: digest.title,
                notices: digest.notices.map((n) => n.id),
              },
            },
          },
          {
            Delete: {
              TableName: this.table.name,
              Key: open,
              ConditionExpression: '#state = :sent',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':sent': 'sent' },
            },
          },
        ],
      }),
    );
  }

  /** A channel's sent digests, oldest first (for auditors and tests). */
  async sentDigests(channel: string): Promise<Array<{ digestId: string; sentAt: string; notices: string[] }>> {
    const items = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :d)',
      ExpressionAttributeValues: { ':pk': partitions.channel(channel), ':d': SORT_PREFIX.sentDigest },
      ConsistentRead: true,
    });
    return items.map((i) => ({
      digestId: String(i.digestId),
      sentAt: String(i.sentAt),
      notices: (i.notices as string[]) ?? [],
    }));
  }
}
