import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { AuditEventSchema, GENESIS_HASH, chainEvents, type AuditEvent } from '../audit/chain';
import { ConcurrentUpdateError } from '../shared/errors';
import { eventIndexKeys } from './dynamo-finding-store';
import {
  ManagedSecretRecordSchema,
  type ManagedSecretEventInput,
  type ManagedSecretRecord,
  type ManagedSecretStore,
} from '../rotation/managed-secrets';

/** byStatus partition listing every managed secret, ordered by last rotation (oldest first). */
export const MANAGED_SECRETS_PARTITION = 'MANAGED_SECRETS';
const STATE_SK = '#STATE';
const key = (arn: string) => ({ pk: `MANAGED_SECRET#${arn}`, sk: STATE_SK });
const eventSk = (seq: number) => `EVENT#${String(seq).padStart(10, '0')}`;
const MAX_ATTEMPTS = 8;

/**
 * Managed-secret records in the one table: the record (`MANAGED_SECRET#<arn>` / `#STATE`), its
 * hash-chained events, and one `DELIVERY#<id>` marker per recorded delivery, all written in one
 * transaction guarded by the record's event count.
 */
export class DynamoManagedSecretStore implements ManagedSecretStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async record(input: ManagedSecretEventInput, at: string): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.get(input.secretArn);
      const head = { count: current?.eventCount ?? 0, lastHash: current?.lastEventHash ?? GENESIS_HASH };
      const [event] = chainEvents(input.secretArn, head, [{ ...input.event, at }]);
      const next: ManagedSecretRecord = {
        secretArn: input.secretArn,
        name: input.name,
        ...((input.rotator ?? current?.rotator) ? { rotator: input.rotator ?? current?.rotator } : {}),
        ...(current?.lastRotatedAt ? { lastRotatedAt: current.lastRotatedAt } : {}),
        ...(current?.lastOutcome ? { lastOutcome: current.lastOutcome } : {}),
        ...(current?.lastFailureAt ? { lastFailureAt: current.lastFailureAt } : {}),
        rotations: current?.rotations ?? 0,
        failures: current?.failures ?? 0,
        eventCount: event!.seq,
        lastEventHash: event!.hash,
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
      const pk = key(input.secretArn).pk;
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    ...key(input.secretArn),
                    type: 'managed_secret',
                    ...next,
                    gsi1pk: MANAGED_SECRETS_PARTITION,
                    gsi1sk: `${next.lastRotatedAt ?? '0000'}#${input.secretArn}`,
                  },
                  ConditionExpression: current ? 'eventCount = :count' : 'attribute_not_exists(pk)',
                  ...(current ? { ExpressionAttributeValues: { ':count': current.eventCount } } : {}),
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: { pk, sk: eventSk(event!.seq), type: 'event', ...event, ...eventIndexKeys(event!) },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: { pk, sk: `DELIVERY#${input.deliveryId}`, type: 'delivery', at },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
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
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key(secretArn), ConsistentRead: true }),
    );
    return out.Item ? ManagedSecretRecordSchema.parse(out.Item) : undefined;
  }

  async list(): Promise<ManagedSecretRecord[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: 'byStatus',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': MANAGED_SECRETS_PARTITION },
    });
    return items.map((i) => ManagedSecretRecordSchema.parse(i));
  }

  async events(secretArn: string): Promise<AuditEvent[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
      ExpressionAttributeValues: { ':pk': key(secretArn).pk, ':e': 'EVENT#' },
      ConsistentRead: true,
    });
    return items.map((i) => AuditEventSchema.parse(i));
  }

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
