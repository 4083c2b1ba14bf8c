import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { WritebackWorkSchema, type WritebackWork } from '../writeback/model';
import type { WritebackStore } from '../writeback/ports';
import { GSI, SORT_PREFIX, indexKeys, keys, onIndex, partitions, type SingleTable } from './table';

/** The write-back outbox on the one table: items beside their finding, listed through byTimer `WRITEBACK`. */
export class DynamoWritebackStore implements WritebackStore {
  constructor(private readonly table: SingleTable) {}

  private key(work: Pick<WritebackWork, 'findingId' | 'seq'>) {
    return keys.writebackWork(work.findingId, work.seq);
  }

  async dueWork(now: string, limit: number): Promise<WritebackWork[]> {
    // "~" sorts after every "#<id>#<seq>" suffix, so work due at exactly `now` is included.
    const out = await this.table.doc.send(
      new QueryCommand({
        TableName: this.table.name,
        ...onIndex('byTimer', partitions.writeback, { condition: '<= :now', values: { ':now': `${now}~` } }),
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((item) => WritebackWorkSchema.parse(item));
  }

  async pendingOf(findingId: string): Promise<WritebackWork[]> {
    const items = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      FilterExpression: '#state = :pending',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':pk': partitions.finding(findingId),
        ':prefix': SORT_PREFIX.writeback,
        ':pending': 'pending',
      },
      ConsistentRead: true,
    });
    return items.map((item) => WritebackWorkSchema.parse(item)).sort((a, b) => a.seq - b.seq);
  }

  async countPending(cap = 10_000): Promise<number> {
    let count = 0;
    for await (const page of this.table.pages({ ...onIndex('byTimer', partitions.writeback), Select: 'COUNT' })) {
      count += page.Count ?? 0;
      if (count >= cap) break;
    }
    return count;
  }

  async claim(work: WritebackWork, worker: string, now: string, leaseUntil: string): Promise<boolean> {
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: this.key(work),
          UpdateExpression: 'SET leaseOwner = :worker, leaseUntil = :until',
          // Free when nobody holds it, the lease ran out, or this worker holds it; and still pending.
          ConditionExpression:
            '#state = :pending AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :worker)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':worker': worker, ':until': leaseUntil, ':now': now, ':pending': 'pending' },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async markTargetDone(work: WritebackWork, target: string): Promise<void> {
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: this.key(work),
        UpdateExpression: 'SET done = list_append(if_not_exists(done, :empty), :target)',
        ExpressionAttributeValues: { ':empty': [], ':target': [target] },
      }),
    );
  }

  async completeWork(work: WritebackWork, at: string, skipped: string[]): Promise<void> {
    // Removing the index keys takes it out of the outbox; the item stays as the record of what was told.
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: this.key(work),
        UpdateExpression: `SET #state = :done, doneAt = :at, skipped = :skipped REMOVE ${GSI.byTimer.partitionKey}, ${GSI.byTimer.sortKey}, leaseOwner, leaseUntil`,
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':done': 'done', ':at': at, ':skipped': skipped.map((s) => s.slice(0, 300)) },
      }),
    );
  }

  async failWork(work: WritebackWork, error: string, nextAttemptAt: string): Promise<void> {
    const index = indexKeys.writeback({ ...work, nextAttemptAt });
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: this.key(work),
        UpdateExpression:
          'SET lastError = :e, nextAttemptAt = :next, #gsk = :gsk ADD attempts :one REMOVE leaseOwner, leaseUntil',
        ExpressionAttributeNames: { '#gsk': GSI.byTimer.sortKey },
        ExpressionAttributeValues: {
          ':e': error.slice(0, 500),
          ':next': nextAttemptAt,
          ':gsk': index[GSI.byTimer.sortKey],
          ':one': 1,
        },
      }),
    );
  }
}
