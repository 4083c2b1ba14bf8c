import { SingleTable } from '@core/store/table';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readFileSync } from 'node:fs';
import { fixedClock, systemClock, type Clock } from '@core/shared/clock';
import { ConfigurationError } from '@core/shared/errors';
import { DEFAULT_POLICY, parsePolicy, withApprovers, type Policy } from '@core/policy/policy';
import { SecretHasher } from '@core/finding/identity';
import { DynamoFindingStore } from '@core/store/dynamo-finding-store';
import { ensureTable } from '@core/store/ensure-table';
import { join } from 'node:path';
import type { LocalConfig } from './config';
import { loadOrCreateLocalDeploymentKey } from './deployment-key';
import { localClient, startDynamoDbLocal, type RunningDynamoDb } from './dynamodb-local';
import { LocalLifecycleRunner } from './lifecycle-runner';
import { LocalRotationRunner } from './rotation-runner';
import { credentialControlFor, rotationComponents } from '@connectors/aws/rotation-wiring';
import { awsResourceTags } from '@connectors/aws/resource-tags';
import { randomUUID } from 'node:crypto';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import type { TicketSink } from '@core/tickets/ports';
import type { SinkRef } from '@core/tickets/model';
import { syncTickets, type SyncResult } from '@core/tickets/sync';
import { JiraSink } from '@connectors/sinks/jira/jira-sink';
import { LocalTrackerSink } from '@core/store/local-tracker';
import { ServiceNowSink } from '@connectors/sinks/servicenow/servicenow-sink';
import { ServiceNowCmdb } from '@connectors/sinks/servicenow/cmdb';
import { servicenowHttp } from '@connectors/sinks/servicenow/client';

/** Everything a local command needs, wired once. */
export interface LocalHub {
  config: LocalConfig;
  client: DynamoDBClient;
  store: DynamoFindingStore;
  hasher: SecretHasher;
  clock: Clock;
  /** Whether the table had to be created by this start. */
  table: 'created' | 'exists';
  policy: Policy;
  lifecycles: LocalLifecycleRunner;
  /** The secret rotation machine, against AWS endpoints or as a dry run (config.rotation). */
  rotations: LocalRotationRunner;
  tickets: DynamoTicketStore;
  tracker: LocalTrackerSink;
  sinks: Partial<Record<SinkRef['kind'], TicketSink>>;
  cmdb?: ServiceNowCmdb;
  /** Pushes pending ticket (and CMDB) work to the configured sinks. */
  sync(options?: { deadlineMs?: number }): Promise<SyncResult>;
  close(): Promise<void>;
}

/**
 * Opens the hub on the configured DynamoDB: AWS_ENDPOINT_URL_DYNAMODB when set, otherwise an
 * embedded DynamoDB Local with its data under CLOSELOOP_HOME. Creates the table if missing.
 */
/** The policy file (if any) with CLOSELOOP_APPROVERS applied; problems name the field. */
export function loadPolicy(config: LocalConfig): Policy {
  let policy = DEFAULT_POLICY;
  if (config.policyFile) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(config.policyFile, 'utf8'));
    } catch (err) {
      throw new ConfigurationError(`CLOSELOOP_POLICY ${config.policyFile}: cannot be read as JSON`, { cause: err });
    }
    policy = parsePolicy(json, config.policyFile);
  }
  return withApprovers(policy, config.approvers);
}

export async function openLocalHub(config: LocalConfig): Promise<LocalHub> {
  const policy = loadPolicy(config);
  let dynamo: RunningDynamoDb | undefined;
  const endpoint =
    config.dynamoEndpoint ?? (dynamo = await startDynamoDbLocal({ dataDir: join(config.home, 'dynamodb') })).endpoint;
  const client = localClient(endpoint);
  try {
    const table = await ensureTable(client, config.tableName);
    const hasher = new SecretHasher(await loadOrCreateLocalDeploymentKey(config.home));
    const store = new DynamoFindingStore(new SingleTable(client, config.tableName));
    const clock = config.now ? fixedClock(config.now) : systemClock;
    const tickets = new DynamoTicketStore(new SingleTable(client, config.tableName));
    const tracker = new LocalTrackerSink(new SingleTable(client, config.tableName), () => clock.now());
    const snHttp = config.servicenow ? servicenowHttp(config.servicenow) : undefined;
    const cmdb = config.servicenow && snHttp ? new ServiceNowCmdb(config.servicenow, snHttp) : undefined;
    const sinks: Partial<Record<SinkRef['kind'], TicketSink>> = {
      local: tracker,
      ...(config.jira ? { jira: new JiraSink(config.jira) } : {}),
      ...(config.servicenow && snHttp ? { servicenow: new ServiceNowSink(config.servicenow, snHttp) } : {}),
    };
    const rotations = new LocalRotationRunner({
      store,
      clock,
      policy,
      control: credentialControlFor(hasher, config.rotation),
    });
    // Owner tags of AWS resources: only when AWS endpoints are configured (there is no AWS locally otherwise).
    const tags =
      config.rotation === 'aws' ? awsResourceTags(rotationComponents(hasher), policy.ownerTagKeys) : undefined;
    const worker = `local-${process.pid}-${randomUUID().slice(0, 8)}`;
    return {
      config,
      client,
      store,
      hasher,
      clock,
      table,
      policy,
      lifecycles: new LocalLifecycleRunner({
        store,
        clock,
        policy,
        remediation: rotations,
        ...(cmdb ? { directory: cmdb } : {}),
        ...(tags ? { tags } : {}),
      }),
      rotations,
      tickets,
      tracker,
      sinks,
      ...(cmdb ? { cmdb } : {}),
      sync: (options) =>
        syncTickets(
          {
            store,
            tickets,
            clock,
            policy,
            sinks,
            worker,
            configured: {
              ...(config.jira ? { jiraProject: config.jira.projectKey } : {}),
              servicenow: Boolean(config.servicenow),
            },
            ...(cmdb ? { cmdb } : {}),
          },
          options,
        ),
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
