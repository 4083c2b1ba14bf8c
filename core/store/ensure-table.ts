import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTableCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { sleep } from '../shared/backoff';
import { createTableInput } from './table';

/**
 * Creates the table (same keys and GSIs as the CDK stack) if it is missing, and adds the indexes
 * a table made by an earlier version lacks (one UpdateTable each, as DynamoDB requires). Idempotent.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<'created' | 'exists' | 'updated'> {
  let table: TableDescription | undefined;
  try {
    table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  if (table) return (await addMissingIndexes(client, tableName, table)) ? 'updated' : 'exists';
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (err) {
    // Two processes initialising at once: the other one created it.
    if (err instanceof ResourceInUseException) return 'exists';
    throw err;
  }
  await untilActive(client, tableName);
  return 'created';
}

async function addMissingIndexes(client: DynamoDBClient, tableName: string, table: TableDescription) {
  const present = new Set((table.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  // Each missing index exactly as CreateTable (and the CDK stack) would make it.
  const wanted = createTableInput(tableName);
  const missing = wanted.GlobalSecondaryIndexes.filter((index) => !present.has(index.IndexName));
  for (const index of missing) {
    const keyNames = new Set(index.KeySchema.map((k) => k.AttributeName));
    try {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: wanted.AttributeDefinitions.filter((a) => keyNames.has(a.AttributeName)),
          GlobalSecondaryIndexUpdates: [{ Create: index }],
        }),
      );
    } catch (err) {
      // Another process is adding it (or just did).
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    await untilActive(client, tableName);
  }
  return missing.length > 0;
}

/** Waits (up to about a minute) until the table and its indexes are ACTIVE. */
async function untilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (
      Table?.TableStatus === 'ACTIVE' &&
      (Table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE')
    )
      return;
    await sleep(100);
  }
}
