import type { Clock } from '@core/shared/clock';
import type { LifecycleSignaller } from '@core/lifecycle/decisions';
import { remediationNotConfigured } from '@core/lifecycle/ports';
import { parsePolicy } from '@core/policy/policy';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import { ticketLabel } from '@core/tickets/model';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import type { WebhookDeps } from '@connectors/api/webhooks';
import { SingleTable } from '@core/store/table';
import { LocalLifecycleRunner } from '@local/lifecycle-runner';
import { aFreshStore } from './dynamo';
import { aHasher } from './factories';
import { reportFixture } from './fixtures';

export const T0 = Date.parse('2026-11-01T09:00:00.000Z');
const REPORT = reportFixture('trufflehog-git.jsonl');
export const POLICY = parsePolicy(
  {
    ownerMappings: [{ asset: '*', owner: 'dev-team@example.com' }],
    principals: [{ name: 'alice', roles: ['security-lead', 'approver'] }],
  },
  'test policy',
);
export const JIRA_SECRET = 'jira-webhook-secret';
export const SN_SECRET = 'servicenow-webhook-secret';

/**
 * A hub with the TruffleHog fixture ingested and every lifecycle started, ready for ticket webhooks;
 * `finding` is the private key, waiting for its owner's fix.
 */
export async function aWebhookWorld() {
  const { client, tableName, store } = await aFreshStore();
  let now = T0;
  const clock: Clock = { now: () => new Date(now) };
  await ingestReportFiles([REPORT], { store, clock, hasher: aHasher() });
  const runner = new LocalLifecycleRunner({ store, clock, policy: POLICY, remediation: remediationNotConfigured });
  for (const f of await store.list()) await runner.start(f);
  const signaller: LifecycleSignaller = {
    signal: async (f, resumeAt, signal) => (await runner.resume(f, resumeAt, { signal }), 'resumed'),
  };
  const tickets = new DynamoTicketStore(new SingleTable(client, tableName));
  const deps: WebhookDeps = {
    store,
    clock,
    policy: POLICY,
    signaller,
    tickets,
    secrets: { jira: JIRA_SECRET, servicenow: SN_SECRET },
    jiraWontDo: ["Won't Do"],
    servicenowStates: { doneStates: ['3', '6', '7'], wontDoStates: ['4', '8'], openStates: ['1', '2'] },
  };
  // A private key: fixed by its owner, closed by a rotation record or a ticket resolution note.
  const finding = (await store.list()).find(
    (f) => f.nhiType === 'private_key' && f.lifecycle?.waitingAt === 'AwaitOwnerFix',
  );
  return {
    client,
    tableName,
    store,
    clock,
    runner,
    deps,
    finding: finding!,
    tickets,
    advance: (ms: number) => void (now += ms),
  };
}

/** A Jira Cloud `jira:issue_updated` delivery (a parsed body), pointed at one of our issues. */
export function retargetedJiraIssueUpdated(
  delivery: unknown,
  findingId: string,
  key: string,
  change: { to: 'Done' | 'In Progress' | 'To Do'; from?: string; resolution?: string },
) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a large webhook body, edited in place
  type Loose = Record<string, any>;
  const event = structuredClone(delivery) as Loose;
  event.issue.key = key;
  event.issue.fields.labels = ['closeloop', ticketLabel(findingId)];
  event.issue.fields.status = {
    ...event.issue.fields.status,
    name: change.to,
    statusCategory: { key: change.to === 'Done' ? 'done' : change.to === 'To Do' ? 'new' : 'indeterminate' },
  };
  event.issue.fields.resolution = change.resolution ? { name: change.resolution } : null;
  event.changelog.items = [{ field: 'status', fromString: change.from ?? 'In Progress', toString: change.to }];
  return JSON.stringify(event);
}
