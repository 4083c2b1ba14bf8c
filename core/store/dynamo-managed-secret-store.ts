import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { GENESIS_HASH, chainEvents, type AuditEvent } from '../audit/chain';
import { eventsOf } from './event-pages';
import { MANAGED_SECRET_BOUND_FIELDS, bindState, stateHashOf } from '../audit/state';
import { ConcurrentUpdateError } from '../shared/errors';
import {
  ManagedSecretRecordSchema,
  type ManagedSecretEventInput,
  type ManagedSecretRecord,
  type ManagedSecretStore,
} from '../rotation/managed-secrets';
import { noticeFor } from '../notify/notices';
import { toNoticeItem } from './dynamo-notification-store';
import { SORT_PREFIX, indexKeys, keys, onIndex, partitions, type SingleTable } from './table';

const MAX_ATTEMPTS = 8;

/**
 * Managed-secret records in the one table: the record (`MANAGED_SECRET#<arn>` / `#STATE`), its
 * hash-chained events, and one `DELIVERY#<id>` marker per recorded delivery, all written in one
 * transaction guarded by the record's event count.
 */
export class DynamoManagedSecretStore implements ManagedSecretStore {
  constructor(private readonly table: SingleTable) {}

  async record(input: ManagedSecretEventInput, at: string): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.get(input.secretArn);
      const head = { count: current?.eventCount ?? 0, lastHash: current?.lastEventHash ?? GENESIS_HASH };
      const [unbound] = chainEvents(input.secretArn, head, [{ ...input.event, at }]);
      const next: ManagedSecretRecord = {
        secretArn: input.secretArn,
        name: input.name,
        ...((input.rotator ?? current?.rotator) ? { rotator: input.rotator ?? current?.rotator } : {}),
        ...(current?.lastRotatedAt ? { lastRotatedAt: current.lastRotatedAt } : {}),
        ...(current?.lastOutcome ? { lastOutcome: current.lastOutcome } : {}),
        ...(current?.lastFailureAt ? { lastFailureAt: current.lastFailureAt } : {}),
        rotations: current?.rotations ?? 0,
        failures: current?.failures ?? 0,
        eventCount: unbound!.seq,
        lastEventHash: unbound!.hash,
        updatedAt: at,
      };
      if (input.outcome) {
        next.lastOutcome = input.outcome;
        if (input.outcome === 'succeeded') {
          next.lastRotatedAt = at;
          next.rotations += 1;
        } else {
          next.lastFailureAt = at;
          next.failures += 1;
        }
      }
      // The record's counts and outcomes are bound to the event that changes them (as a finding's are).
      const bound = bindState(
        `managed secret ${input.secretArn}`,
        stateHashOf(next, MANAGED_SECRET_BOUND_FIELDS),
        [unbound!],
        undefined,
      );
      const event = bound.events[0]!;
      next.lastEventHash = bound.lastHash!;
      // A failed or abandoned scheduled rotation is told to people (core/notify), with its event.
      const notice = noticeFor(event, 'managed_secret');
      try {
        await this.table.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.table.name,
                  Item: {
                    ...keys.managedSecret(input.secretArn),
                    type: 'managed_secret',
                    ...next,
                    ...indexKeys.managedSecrets(next.lastRotatedAt, input.secretArn),
                  },
                  ConditionExpression: current ? 'eventCount = :count' : 'attribute_not_exists(pk)',
                  ...(current ? { ExpressionAttributeValues: { ':count': current.eventCount } } : {}),
                },
              },
              {
                Put: {
                  TableName: this.table.name,
                  Item: {
                    ...keys.managedSecretEvent(input.secretArn, event.seq),
                    type: 'event',
                    ...event,
                    ...indexKeys.event(event),
                  },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Put: {
                  TableName: this.table.name,
                  Item: { ...keys.managedSecretDelivery(input.secretArn, input.deliveryId), type: 'delivery', at },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              ...(notice ? [{ Put: { TableName: this.table.name, Item: toNoticeItem(notice) } }] : []),
            ],
          }),
        );
        return true;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        if (err.CancellationReasons?.[2]?.Code === 'ConditionalCheckFailed') return false; // already recorded
        // Another writer appended first: re-read and chain after it.
      }
    }
    throw new ConcurrentUpdateError(input.secretArn);
  }

  async get(secretArn: string): Promise<ManagedSecretRecord | undefined> {
    const out = await this.table.doc.send(
      new GetCommand({ TableName: this.table.name, Key: keys.managedSecret(secretArn), ConsistentRead: true }),
    );
    return out.Item ? ManagedSecretRecordSchema.parse(out.Item) : undefined;
  }

  async list(): Promise<ManagedSecretRecord[]> {
    const items = await this.table.queryAll(onIndex('byStatus', partitions.managedSecrets));
    return items.map((i) => ManagedSecretRecordSchema.parse(i));
  }

  async events(secretArn: string): Promise<AuditEvent[]> {
    const items = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
      ExpressionAttributeValues: { ':pk': partitions.managedSecret(secretArn), ':e': SORT_PREFIX.event },
      ConsistentRead: true,
    });
    return eventsOf(items);
  }
}
