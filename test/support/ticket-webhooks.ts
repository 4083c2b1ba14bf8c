import type { Clock } from '@core/shared/clock';
import type { LifecycleSignaller } from '@core/lifecycle/decisions';
import { plannedRotations } from './planned-remediation';
import { parsePolicy } from '@core/policy/policy';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import { ticketLabel } from '@core/tickets/model';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import type { WebhookDeps } from '@connectors/api/webhooks';
import { jiraInboundSettings } from '@connectors/sinks/jira/config';
import { servicenowInboundStates } from '@connectors/sinks/servicenow/config';
import { SingleTable } from '@core/store/table';
import { LocalLifecycleRunner } from '@local/lifecycle-runner';
import { aFreshStore } from './dynamo';
import { aHasher } from './factories';
import { reportFixture } from './fixtures';

export const T0 = Date.parse('2026-11-01T09:00:00.000Z');
const REPORT = reportFixture('trufflehog-git.jsonl');
/** The Jira user of the webhook fixture (test/fixtures/jira/webhook-issue-updated.json): a developer of the owning team. */
export const JIRA_DEVELOPER = '712020:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
/** An approver's Jira account. */
export const JIRA_ALICE = '712020:a11ce000-0000-4000-8000-000000000001';
export const POLICY_JSON = {
  ownerMappings: [{ asset: '*', owner: 'dev-team@example.com' }],
  principals: [
    {
      name: 'alice',
      roles: ['security-lead', 'approver'],
      identities: [{ jira: JIRA_ALICE }, { servicenow: 'alice.approver' }],
    },
    // The owning team: its developers act for it in Jira and ServiceNow.
    {
      name: 'dev-team@example.com',
      roles: ['owner'],
      identities: [{ jira: JIRA_DEVELOPER }, { servicenow: 'dev.team' }],
    },
  ],
};
export const POLICY = parsePolicy(POLICY_JSON, 'test policy');
export const JIRA_SECRET = 'jira-webhook-secret';
export const SN_SECRET = 'servicenow-webhook-secret';

/**
 * A hub with the TruffleHog fixture ingested and every lifecycle started, ready for ticket webhooks;
 * `finding` is the private key, waiting for its owner's fix, and its ticket is `ticket` (as the
 * sync would have recorded it).
 */
export async function aWebhookWorld(
  ticket: { system: 'jira' | 'servicenow'; key: string } | null = { system: 'jira', key: 'SEC-1' },
  /** Jira / ServiceNow settings of the webhooks (JIRA_DECISIONS, SERVICENOW_DECISION_STATES, …). */
  env: Record<string, string> = {},
  /** Reports ingested besides the TruffleHog fixture (test/fixtures/reports). */
  reports: string[] = [],
) {
  const { client, tableName, store } = await aFreshStore();
  let now = T0;
  const clock: Clock = { now: () => new Date(now) };
  await ingestReportFiles([REPORT, ...reports.map(reportFixture)], { store, clock, hasher: aHasher() });
  const runner = new LocalLifecycleRunner({
    store,
    clock,
    policy: POLICY,
    remediation: plannedRotations(store, POLICY),
  });
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
    // The hub's own Jira account and ServiceNow user are the sinks' (test/support/tickets.ts, fake-servicenow.ts).
    jira: jiraInboundSettings({ JIRA_WONT_DO_RESOLUTIONS: "Won't Do", JIRA_EMAIL: 'hub@example.com', ...env }),
    servicenow: servicenowInboundStates({ SERVICENOW_OPEN_STATES: '1,2', SERVICENOW_USER: 'closeloop', ...env }),
  };
  // A private key: fixed by its owner, closed by a rotation record or a ticket resolution note.
  const finding = (await store.list()).find(
    (f) => f.nhiType === 'private_key' && f.lifecycle?.waitingAt === 'AwaitOwnerFix',
  );
  /** Records a ticket key for a finding, as the sync does when it creates the ticket. */
  const linkTicket = async (findingId: string, system: 'jira' | 'servicenow', key: string) => {
    const wall = new Date().toISOString();
    const sink =
      system === 'jira' ? { kind: 'jira' as const, project: key.split('-')[0]! } : { kind: 'servicenow' as const };
    await tickets.claimTicket(findingId, sink, 'test-sync', wall, new Date(Date.now() + 60_000).toISOString());
    await tickets.recordTicketKey(findingId, system, key, undefined);
    await tickets.releaseTicket(findingId, 'test-sync');
  };
  if (ticket) await linkTicket(finding!.id, ticket.system, ticket.key);
  return {
    linkTicket,
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

/**
 * A Jira Cloud `jira:issue_updated` delivery (a parsed body), pointed at one of our issues: signed
 * at `at` (the hub's T0 by default), by `user` (by default the delivery's own user).
 */
export function retargetedJiraIssueUpdated(
  delivery: unknown,
  findingId: string,
  key: string,
  change: { to: string; from?: string; resolution?: string; category?: 'new' | 'indeterminate' | 'done' },
  options: { at?: number; user?: { accountId: string; emailAddress?: string; displayName?: string } } = {},
) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a large webhook body, edited in place
  type Loose = Record<string, any>;
  const event = structuredClone(delivery) as Loose;
  event.timestamp = options.at ?? T0;
  if (options.user) event.user = { ...options.user, active: true, accountType: 'atlassian' };
  event.issue.key = key;
  event.issue.fields.labels = ['closeloop', ticketLabel(findingId)];
  event.issue.fields.status = {
    ...event.issue.fields.status,
    name: change.to,
    statusCategory: {
      key: change.category ?? (change.to === 'Done' ? 'done' : change.to === 'To Do' ? 'new' : 'indeterminate'),
    },
  };
  event.issue.fields.resolution = change.resolution ? { name: change.resolution } : null;
  event.changelog.items = [{ field: 'status', fromString: change.from ?? 'In Progress', toString: change.to }];
  return JSON.stringify(event);
}
