import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { AuditEventSchema, type AuditEvent } from '../audit/chain';
import { inParallel } from '../shared/concurrency';
import { FindingSchema, type Finding, type FindingStatus } from '../finding/model';
import { ManagedSecretRecordSchema } from '../rotation/managed-secrets';
import type { ReportReads, ReportSource } from '../reports/ports';
import { EVENT_DAY_SHARDS, eventDayPartition } from './dynamo-finding-store';
import { MANAGED_SECRETS_PARTITION } from './dynamo-managed-secret-store';
import {
  EXPIRED_EXCEPTIONS_PARTITION,
  ExpiredExceptionRecordSchema,
  type ExpiredExceptionRecord,
} from './exception-history';
import { DAY_MS } from '@core/shared/clock';

/** Index partitions one report reads at once. */
const PARTITIONS_IN_PARALLEL = 4;

/** ReportSource on the one table: Queries only, each counted with its consumed read capacity. */
export class DynamoReportSource implements ReportSource {
  private readonly doc: DynamoDBDocumentClient;
  private readonly used: ReportReads = { requests: 0, readUnits: 0 };

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  reads(): ReportReads {
    return { ...this.used };
  }

  async findings(statuses: readonly FindingStatus[]): Promise<Finding[]> {
    // Status partitions are independent: read them side by side (results kept in the given order).
    const pages = await inParallel(PARTITIONS_IN_PARALLEL, statuses, (status) =>
      this.query({
        IndexName: 'byStatus',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': `STATUS#${status}` },
      }),
    );
    return pages.flat().map((i) => FindingSchema.parse(i));
  }

  async openOf(owner: string): Promise<Finding[]> {
    const items = await this.query({
      IndexName: 'byOwnerDue',
      KeyConditionExpression: 'gsi2pk = :p',
      ExpressionAttributeValues: { ':p': `OWNER#${owner}` },
    });
    return items.map((i) => FindingSchema.parse(i));
  }

  async closedOf(owner: string, since?: string): Promise<Finding[]> {
    const items = await this.query({
      IndexName: 'byOwnerDue',
      KeyConditionExpression: since ? 'gsi2pk = :p AND gsi2sk >= :since' : 'gsi2pk = :p',
      ExpressionAttributeValues: { ':p': `CLOSED#${owner}`, ...(since ? { ':since': since } : {}) },
    });
    return items.map((i) => FindingSchema.parse(i));
  }

  async acceptedOf(owner: string): Promise<Finding[]> {
    const items = await this.query({
      IndexName: 'byOwnerDue',
      KeyConditionExpression: 'gsi2pk = :p',
      ExpressionAttributeValues: { ':p': `ACCEPTED#${owner}` },
    });
    return items.map((i) => FindingSchema.parse(i));
  }

  async expiredExceptions(since?: string): Promise<ExpiredExceptionRecord[]> {
    const items = await this.query({
      IndexName: 'byStatus',
      KeyConditionExpression: since ? 'gsi1pk = :p AND gsi1sk >= :since' : 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': EXPIRED_EXCEPTIONS_PARTITION, ...(since ? { ':since': since } : {}) },
    });
    return items.map((i) => ExpiredExceptionRecordSchema.parse(i));
  }

  async managedSecrets() {
    const items = await this.query({
      IndexName: 'byStatus',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': MANAGED_SECRETS_PARTITION },
    });
    return items.map((i) => ManagedSecretRecordSchema.parse(i));
  }

  async trail(findingId: string): Promise<{ finding?: Finding; events: AuditEvent[] }> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `FINDING#${findingId}` },
      ConsistentRead: true,
    });
    const head = items.find((i) => i.type === 'finding');
    const events = items.filter((i) => i.type === 'event').map((i) => AuditEventSchema.parse(i));
    return { ...(head ? { finding: FindingSchema.parse(head) } : {}), events };
  }

  async eventsBetween(from: string, to: string, actor?: string): Promise<AuditEvent[]> {
    const partitions: string[] = [];
    for (let day = Date.parse(from.slice(0, 10)); day <= Date.parse(to.slice(0, 24)); day += DAY_MS) {
      const date = new Date(day).toISOString().slice(0, 10);
      partitions.push(...Array.from({ length: EVENT_DAY_SHARDS }, (_, shard) => eventDayPartition(date, shard)));
    }
    const pages = await inParallel(PARTITIONS_IN_PARALLEL, partitions, (partition) =>
      this.query({
        IndexName: 'byTimer',
        KeyConditionExpression: 'gsi4pk = :p AND gsi4sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':p': partition, ':from': from, ':to': to, ...(actor ? { ':actor': actor } : {}) },
        ...(actor ? { FilterExpression: 'actor = :actor' } : {}),
      }),
    );
    return pages.flat().map((i) => AuditEventSchema.parse(i));
  }

  private async query(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          ReturnConsumedCapacity: 'TOTAL',
          ...input,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      this.used.requests += 1;
      this.used.readUnits += page.ConsumedCapacity?.CapacityUnits ?? 0;
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
