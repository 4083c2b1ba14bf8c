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

/**
 * The environment a Lambda in these tests starts with, as the template sets it: the fresh table on
 * DynamoDB Local, local credentials, quiet logs, plus what the function needs besides. Set it
 * before the handler module loads (handlers read their configuration at load, as in Lambda).
 */
export function useLambdaEnvironment(
  fresh: { tableName: string; endpoint: string },
  extra: Record<string, string> = {},
  region = 'us-east-1',
): void {
  Object.assign(process.env, {
    CLOSELOOP_TABLE: fresh.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: fresh.endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...extra,
  });
}
