import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { z } from 'zod';
import { SecretHasher } from '@core/finding/identity';
import { systemClock } from '@core/shared/clock';
import { ConfigurationError } from '@core/shared/errors';
import { DynamoFindingStore } from '@core/store/dynamo-finding-store';
import { DynamoManagedSecretStore } from '@core/store/dynamo-managed-secret-store';
import { DynamoReportSource } from '@core/store/dynamo-report-source';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import { SingleTable } from '@core/store/table';
import { policyFromJson, readHubConfig } from '../config';

/** Shared by every handler; built once per execution environment. */
export const logger = new Logger({ serviceName: 'closeloop' });

/** The ticketing credentials secret (JSON): filled in by the operator after `cdk deploy`. */
export const TicketingSecretSchema = z
  .object({
    jiraApiToken: z.string().min(1),
    jiraWebhookSecret: z.string().min(16),
    jiraDcToken: z.string().min(1),
    jiraDcWebhookSecret: z.string().min(16),
    servicenowPassword: z.string().min(1),
    servicenowToken: z.string().min(1),
    servicenowWebhookSecret: z.string().min(16),
  })
  .partial();
export type TicketingSecret = z.infer<typeof TicketingSecretSchema>;

/**
 * What every Lambda is built from, once per execution environment: the configuration (read and
 * checked here, so a missing variable fails the function at start), one DynamoDB client and the
 * table's adapters, the clock and the policy. What only some functions need is asked for at their
 * start (`deploymentKey()`, `ticketingCredentials()`), so those fail at start too, naming the
 * variable; the rest of the wiring (ticketing, rotation, the owner chain, Step Functions) is in the
 * other modules of connectors/wiring, which each handler imports as it needs them, so a bundle
 * carries only its own connectors.
 */
export function lambdaServices(env: NodeJS.ProcessEnv = process.env) {
  const config = readHubConfig(env);
  // Deadlines on every DynamoDB request: a stalled call fails (and is retried) instead of using up the invocation.
  const client = new DynamoDBClient({
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 20_000, throwOnRequestTimeout: true },
  });
  const table = new SingleTable(client, config.require('CLOSELOOP_TABLE'));
  const clock = systemClock;
  return {
    config,
    table,
    clock,
    policy: policyFromJson(config.settings.CLOSELOOP_POLICY),
    store: new DynamoFindingStore(table),
    tickets: new DynamoTicketStore(table),
    secrets: new DynamoManagedSecretStore(table),
    /** A fresh source per report (it counts the reads of one report). */
    reportSource: () => new DynamoReportSource(table),

    /** The HMAC key (CLOSELOOP_DEPLOYMENT_KEY_SECRET, required now), fetched once, on first use, and kept. */
    deploymentKey() {
      const arn = config.require('CLOSELOOP_DEPLOYMENT_KEY_SECRET');
      let hasher: SecretHasher | undefined;
      return {
        async hasher(): Promise<SecretHasher> {
          if (hasher) return hasher;
          const value = await getSecret<string>(arn, { maxAge: 3600 });
          if (typeof value !== 'string' || !/^[0-9a-f]{64,}$/i.test(value.trim())) {
            throw new ConfigurationError('the deployment key secret must hold 64+ hex characters');
          }
          hasher = new SecretHasher(Buffer.from(value.trim(), 'hex'));
          return hasher;
        },
      };
    },

    /**
     * The key report cursors are signed with (CLOSELOOP_REPORT_CURSOR_SECRET, required now): its
     * own secret, so the report function never holds the deployment key. Fetched on first use.
     */
    reportCursorKey() {
      const arn = config.require('CLOSELOOP_REPORT_CURSOR_SECRET');
      return async (): Promise<Buffer> => {
        const value = await getSecret<string>(arn, { maxAge: 3600 });
        if (typeof value !== 'string' || value.trim().length < 32)
          throw new ConfigurationError('the report cursor secret must hold 32+ characters');
        return Buffer.from(value.trim(), 'utf8');
      };
    },

    /** The Jira / ServiceNow credentials (CLOSELOOP_TICKETING_SECRET, required now), read through Powertools (cached for five minutes). */
    ticketingCredentials() {
      const arn = config.require('CLOSELOOP_TICKETING_SECRET');
      return {
        async read(): Promise<TicketingSecret> {
          const value = await getSecret(arn, { transform: 'json', maxAge: 300 });
          const parsed = TicketingSecretSchema.safeParse(value ?? {});
          if (!parsed.success)
            throw new ConfigurationError(
              `the ticketing secret: ${parsed.error.issues.map((i) => `"${i.path.join('.')}" ${i.message}`).join('; ')}`,
            );
          return parsed.data;
        },
      };
    },
  };
}
export type LambdaServices = ReturnType<typeof lambdaServices>;
export type TicketingCredentials = ReturnType<LambdaServices['ticketingCredentials']>;
