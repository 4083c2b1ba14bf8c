/**
 * The single-table layout, shared by the CDK stack and `closeloop init` so the two can never
 * drift. Item types:
 *
 * | item          | pk                    | sk                 |
 * |---------------|-----------------------|--------------------|
 * | finding       | FINDING#<id>          | #FINDING           |
 * | audit event   | FINDING#<id>          | EVENT#<seq, 10 digits> |
 * | expired exception | FINDING#<id>      | EXPIRED_EXCEPTION#<expiredAt> |
 * | alias         | ALIAS#<external id>   | #ALIAS             |
 * | quarantine    | QUARANTINE            | <record digest>    |
 * | pull cursor   | CURSOR#<connector>    | <scope>            |
 *
 * Global secondary indexes, one per report access pattern:
 * - byStatus      — findings by status, most severe and soonest due first; also
 *                   `EXCEPTIONS#expired` history by expiry and `MANAGED_SECRETS` (reports)
 * - byOwnerDue    — open findings of one owner by due date (sparse: set while open),
 *                   `CLOSED#<owner>` closed findings by closing time and `ACCEPTED#<owner>`
 *                   accepted risks by expiry: together every finding of one owner (reports)
 * - bySecretHash  — findings by secret HMAC (sparse)
 * - byTimer       — lifecycle timers by due time: SLA deadlines, approval timeouts, exception
 *                   expiries (sparse: set while a lifecycle waits with a timer; `closeloop tick`);
 *                   also the `OUTBOX` of ticket work and `EVENTDAY#<day>#<shard>` audit events (reports)
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

export interface IndexDefinition {
  name: string;
  partitionKey: string;
  sortKey: string;
}

export const INDEXES: readonly IndexDefinition[] = [
  { name: 'byStatus', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  { name: 'byOwnerDue', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  { name: 'bySecretHash', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  { name: 'byTimer', partitionKey: 'gsi4pk', sortKey: 'gsi4sk' },
] as const;

/** Default table name locally and in the stack. */
export const DEFAULT_TABLE_NAME = 'closeloop';

/** CreateTable input for DynamoDB (local or real): on-demand, all keys strings, GSIs project all. */
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
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}
