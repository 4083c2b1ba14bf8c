import { randomUUID } from 'node:crypto';
import { DynamoFindingStore } from '@core/store/dynamo-finding-store';
import { ensureTable } from '@core/store/ensure-table';
import { SingleTable } from '@core/store/table';
import { localClient } from '@local/dynamodb-local';

/** A fresh table on the suite's DynamoDB Local. */
export async function aFreshStore() {
  const endpoint = process.env.CLOSELOOP_TEST_DYNAMODB;
  if (!endpoint) throw new Error('CLOSELOOP_TEST_DYNAMODB is not set: run through the integration or e2e jest project');
  const client = localClient(endpoint);
  const tableName = `t-${randomUUID()}`;
  await ensureTable(client, tableName);
  return { client, tableName, endpoint, store: new DynamoFindingStore(new SingleTable(client, tableName)) };
}
