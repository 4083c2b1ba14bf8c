import axios from 'axios';
import type { Clock } from '@core/shared/clock';
import { DEFAULT_POLICY, type Policy } from '@core/policy/policy';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import type { DynamoFindingStore } from '@core/store/dynamo-finding-store';
import { syncTickets, type SyncDeps } from '@core/tickets/sync';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { JiraSink } from '@connectors/sinks/jira/jira-sink';
import { readJiraConfig } from '@connectors/sinks/jira/config';
import { LocalTrackerSink } from '@core/store/local-tracker';
import { SingleTable } from '@core/store/table';
import type { RetryPolicy } from '@connectors/http/retrying-http';
import type { FakeJira } from './fake-jira';

/** Retries without real waiting, so chaos tests run in milliseconds. */
export const FAST_RETRY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 1,
  maxDelayMs: 5,
  maxWaitMs: 1_000,
  sleep: () => Promise.resolve(),
  now: Date.now,
};

/** A Jira sink pointed at the fake, with a short search lag and request timeout. */
export function aJiraSink(jira: FakeJira, env: Record<string, string> = {}, timeoutMs = 2_000): JiraSink {
  const config = readJiraConfig({
    JIRA_BASE_URL: jira.url,
    JIRA_EMAIL: 'hub@example.com',
    JIRA_API_TOKEN: 'jira-token',
    JIRA_PROJECT_KEY: 'SEC',
    JIRA_SEARCH_LAG_SECONDS: '0.3',
    ...env,
  });
  const http = axios.create({
    baseURL: config.baseUrl,
    timeout: timeoutMs,
    auth: { username: config.email, password: config.apiToken },
    headers: { 'content-type': 'application/json' },
  });
  return new JiraSink(config, FAST_RETRY, http);
}

/** Sync dependencies over one table with the given sinks. */
export function syncDeps(input: {
  client: DynamoDBClient;
  tableName: string;
  store: DynamoFindingStore;
  clock: Clock;
  policy?: Policy;
  jira?: JiraSink;
  worker?: string;
}): SyncDeps {
  return {
    store: input.store,
    tickets: new DynamoTicketStore(new SingleTable(input.client, input.tableName)),
    clock: input.clock,
    policy: input.policy ?? DEFAULT_POLICY,
    sinks: {
      local: new LocalTrackerSink(new SingleTable(input.client, input.tableName), () => input.clock.now()),
      ...(input.jira ? { jira: input.jira } : {}),
    },
    configured: { ...(input.jira ? { jiraProject: 'SEC' } : {}), servicenow: false },
    worker: input.worker ?? 'test-worker',
    leaseMs: 60_000,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 400))),
  };
}

export { syncTickets };
