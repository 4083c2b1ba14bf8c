import { SingleTable } from '@core/store/table';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { ConfigurationError } from '@core/shared/errors';
import type { OwnerDirectory } from '@core/policy/ports';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import type { SinkRef } from '@core/tickets/model';
import type { TicketSink } from '@core/tickets/ports';
import type { SyncDeps } from '@core/tickets/sync';
import { jiraConfigured, readJiraConfig } from '@connectors/sinks/jira/config';
import { JiraSink } from '@connectors/sinks/jira/jira-sink';
import { LocalTrackerSink } from '@core/store/local-tracker';
import { servicenowHttp } from '@connectors/sinks/servicenow/client';
import { ServiceNowCmdb } from '@connectors/sinks/servicenow/cmdb';
import { readServiceNowConfig, servicenowConfigured } from '@connectors/sinks/servicenow/config';
import { ServiceNowSink } from '@connectors/sinks/servicenow/servicenow-sink';
import { lifecycleRuntime } from './lifecycle-runtime';
import { requiredEnv } from './runtime';

/** The ticketing credentials secret (JSON): filled in by the operator after `cdk deploy`. */
export const TicketingSecretSchema = z
  .object({
    jiraApiToken: z.string().min(1),
    jiraWebhookSecret: z.string().min(16),
    servicenowPassword: z.string().min(1),
    servicenowToken: z.string().min(1),
    servicenowWebhookSecret: z.string().min(16),
  })
  .partial();
export type TicketingSecret = z.infer<typeof TicketingSecretSchema>;

/** The credentials, fetched through Powertools (cached for five minutes). */
export async function ticketingSecret(env: NodeJS.ProcessEnv = process.env): Promise<TicketingSecret> {
  const arn = requiredEnv('CLOSELOOP_TICKETING_SECRET', env);
  const value = await getSecret(arn, { transform: 'json', maxAge: 300 });
  const parsed = TicketingSecretSchema.safeParse(value ?? {});
  if (!parsed.success)
    throw new ConfigurationError(
      `the ticketing secret: ${parsed.error.issues.map((i) => `"${i.path.join('.')}" ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/**
 * The CMDB as the lifecycle's owner directory (first in the owner chain) when ServiceNow is
 * configured: built on first use, since its credentials come from the ticketing secret.
 */
export function lambdaOwnerDirectory(env: NodeJS.ProcessEnv = process.env): OwnerDirectory | undefined {
  if (!servicenowConfigured(env)) return undefined;
  let cmdb: ServiceNowCmdb | undefined;
  return {
    async ownerOf(asset) {
      if (!cmdb) {
        const secret = await ticketingSecret(env);
        const sn = readServiceNowConfig(env, {
          ...(secret.servicenowPassword ? { password: secret.servicenowPassword } : {}),
          ...(secret.servicenowToken ? { token: secret.servicenowToken } : {}),
        });
        cmdb = new ServiceNowCmdb(sn, servicenowHttp(sn));
      }
      return cmdb.ownerOf(asset);
    },
  };
}

/** Sync dependencies for a Lambda: Jira / ServiceNow from the environment plus the secret. */
export async function lambdaSyncDeps(worker: string, env: NodeJS.ProcessEnv = process.env): Promise<SyncDeps> {
  const { store, clock, policy } = lifecycleRuntime(env);
  const tableName = requiredEnv('CLOSELOOP_TABLE', env);
  const client = new DynamoDBClient({});
  const secret = await ticketingSecret(env);
  const jira = jiraConfigured(env)
    ? readJiraConfig(env, secret.jiraApiToken ? { apiToken: secret.jiraApiToken } : {})
    : undefined;
  const sn = servicenowConfigured(env)
    ? readServiceNowConfig(env, {
        ...(secret.servicenowPassword ? { password: secret.servicenowPassword } : {}),
        ...(secret.servicenowToken ? { token: secret.servicenowToken } : {}),
      })
    : undefined;
  const snHttp = sn ? servicenowHttp(sn) : undefined;
  const sinks: Partial<Record<SinkRef['kind'], TicketSink>> = {
    local: new LocalTrackerSink(new SingleTable(client, tableName)),
    ...(jira ? { jira: new JiraSink(jira) } : {}),
    ...(sn && snHttp ? { servicenow: new ServiceNowSink(sn, snHttp) } : {}),
  };
  return {
    store,
    tickets: new DynamoTicketStore(new SingleTable(client, tableName)),
    clock,
    policy,
    sinks,
    configured: { ...(jira ? { jiraProject: jira.projectKey } : {}), servicenow: Boolean(sn) },
    worker,
    ...(sn && snHttp ? { cmdb: new ServiceNowCmdb(sn, snHttp) } : {}),
  };
}
