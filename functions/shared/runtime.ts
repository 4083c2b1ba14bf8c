import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { systemClock } from '@core/clock';
import { ConfigurationError } from '@core/errors';
import { SecretHasher } from '@core/identity';
import { DynamoFindingStore } from '@core/store/dynamo-finding-store';

/** Shared by every handler; built once per execution environment. */
export const logger = new Logger({ serviceName: 'closeloop' });

export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigurationError(`${name} is required`);
  return value;
}

/** Store, clock and hasher for a handler; the deployment key comes from Secrets Manager (cached). */
export function lambdaRuntime(env: NodeJS.ProcessEnv = process.env) {
  const tableName = requiredEnv('CLOSELOOP_TABLE', env);
  const keySecretArn = requiredEnv('CLOSELOOP_DEPLOYMENT_KEY_SECRET', env);
  // Deadlines on every DynamoDB request: a stalled call fails (and is retried) instead of using up the invocation.
  const client = new DynamoDBClient({
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 20_000, throwOnRequestTimeout: true },
  });
  const store = new DynamoFindingStore(client, tableName);
  let hasher: SecretHasher | undefined;
  return {
    store,
    clock: systemClock,
    /** The HMAC key, fetched once and cached for the life of the execution environment. */
    async hasher(): Promise<SecretHasher> {
      if (hasher) return hasher;
      const value = await getSecret<string>(keySecretArn, { maxAge: 3600 });
      if (typeof value !== 'string' || !/^[0-9a-f]{64,}$/i.test(value.trim())) {
        throw new ConfigurationError('the deployment key secret must hold 64+ hex characters');
      }
      hasher = new SecretHasher(Buffer.from(value.trim(), 'hex'));
      return hasher;
    },
  };
}
