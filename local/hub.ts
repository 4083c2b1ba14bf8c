import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fixedClock, systemClock, type Clock } from '@core/clock';
import { SecretHasher } from '@core/identity';
import { DynamoFindingStore } from '@core/store/dynamo-finding-store';
import { ensureTable } from '@core/store/ensure-table';
import { join } from 'node:path';
import type { LocalConfig } from './config';
import { loadOrCreateLocalDeploymentKey } from './deployment-key';
import { localClient, startDynamoDbLocal, type RunningDynamoDb } from './dynamodb-local';

/** Everything a local command needs, wired once. */
export interface LocalHub {
  config: LocalConfig;
  client: DynamoDBClient;
  store: DynamoFindingStore;
  hasher: SecretHasher;
  clock: Clock;
  /** Whether the table had to be created by this start. */
  table: 'created' | 'exists';
  close(): Promise<void>;
}

/**
 * Opens the hub on the configured DynamoDB: AWS_ENDPOINT_URL_DYNAMODB when set, otherwise an
 * embedded DynamoDB Local with its data under CLOSELOOP_HOME. Creates the table if missing.
 */
export async function openLocalHub(config: LocalConfig): Promise<LocalHub> {
  let dynamo: RunningDynamoDb | undefined;
  const endpoint = config.dynamoEndpoint ?? (dynamo = await startDynamoDbLocal({ dataDir: join(config.home, 'dynamodb') })).endpoint;
  const client = localClient(endpoint);
  try {
    const table = await ensureTable(client, config.tableName);
    const hasher = new SecretHasher(await loadOrCreateLocalDeploymentKey(config.home));
    return {
      config,
      client,
      store: new DynamoFindingStore(client, config.tableName),
      hasher,
      clock: config.now ? fixedClock(config.now) : systemClock,
      table,
      close: async () => {
        client.destroy();
        await dynamo?.stop();
      },
    };
  } catch (err) {
    client.destroy();
    await dynamo?.stop();
    throw err;
  }
}
