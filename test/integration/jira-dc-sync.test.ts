import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { fireDueTimers } from '@core/lifecycle/timers';
import type { Clock } from '@core/shared/clock';
import { remediationNotConfigured } from '@core/lifecycle/ports';
import type { ResumeAt } from '@core/lifecycle/state';
import { parsePolicy } from '@core/policy/policy';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import { SingleTable } from '@core/store/table';
import { ticketLabel } from '@core/tickets/model';
import { syncTickets } from '@core/tickets/sync';
import { handleTicketWebhook } from '@connectors/api/webhooks';
import { readHubConfig } from '@connectors/config';
import { signBody } from '@connectors/sinks/webhook-signature';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { buildTicketing, sinkConfigs, ticketSync, webhookSettings } from '@connectors/wiring/ticketing';
import { LocalLifecycleRunner } from '@local/lifecycle-runner';
import { aFreshStore } from '@test/support/dynamo';
import { aHasher } from '@test/support/factories';
import { FakeJiraDc, type JiraDcFault } from '@test/support/fake-jira-dc';
import { REPORT_FIXTURE_SECRETS, reportFixture } from '@test/support/fixtures';
import { storedWorks } from '@test/support/work-items';

const T0 = Date.parse('2026-11-02T09:00:00.000Z');
const DAY = 86_400_000;
const WEBHOOK_SECRET = 'jira-dc-webhook-secret-0123456789';
/** Owners are e-mails (assignees by user name); medium and lower stay in the local tracker, the rest go to Jira DC. */
const POLICY = parsePolicy(
  {
    ownerMappings: [{ asset: '*', owner: 'casey@acme-fixtures.example' }],
    ticketRouting: [{ when: { severities: ['medium', 'low', 'info'] }, sink: { kind: 'local' } }],
  },
  'test policy',
);

async function world(
  options: { fault?: (r: { method: string; route: string; n: number }) => JiraDcFault; indexLagMs?: number } = {},
) {
  const jira = await new FakeJiraDc({
    users: [{ name: 'casey', emailAddress: 'casey@acme-fixtures.example' }],
    ...options,
  }).start();
  const { client, tableName, store } = await aFreshStore();
  const table = new SingleTable(client, tableName);
  let now = T0;
  const clock: Clock & { advance(ms: number): void } = { now: () => new Date(now), advance: (ms) => void (now += ms) };
  // The wiring the hub and the Lambdas use, from the variables a user sets.
  const config = readHubConfig({
    JIRA_DC_BASE_URL: jira.url,
    JIRA_DC_TOKEN: 'dc-pat',
    JIRA_DC_PROJECT_KEY: 'SEC',
    JIRA_DC_SEARCH_LAG_SECONDS: '0.3',
    JIRA_DC_CLOSE_TRANSITION: 'Close Issue',
    JIRA_DC_REOPEN_TRANSITION: 'Reopen Issue',
  });
  const ticketing = buildTicketing(table, sinkConfigs(config), clock);
  const tickets = new DynamoTicketStore(table);
  const runner = new LocalLifecycleRunner({ store, clock, policy: POLICY, remediation: remediationNotConfigured });
  await ingestReportFiles([reportFixture('trufflehog-git.jsonl'), reportFixture('gitleaks-git.json')], {
    store,
    clock,
    hasher: aHasher(),
  });
  for (const f of await store.list()) await runner.start(f);
  const sync = () =>
    syncTickets(
      {
        ...ticketSync(ticketing, { store, tickets, clock, policy: POLICY, worker: 'w' }),
        sleep: () => Promise.resolve(),
      },
      { deadlineMs: 2_000 },
    );
  const tick = async () => {
    // As `closeloop tick`: escalations are recorded, ended exceptions resume their lifecycle.
    const fired = await fireDueTimers({ store, clock, policy: POLICY });
    for (const f of fired.expired) await runner.resume(f, 'exception_expired');
  };
  const webhookDeps = {
    store,
    clock,
    policy: POLICY,
    tickets,
    signaller: {
      signal: async (f: Parameters<typeof runner.resume>[0], resumeAt: ResumeAt, signal: unknown) => (
        await runner.resume(f, resumeAt, { signal } as never),
        'resumed'
      ),
    },
    secrets: { 'jira-dc': WEBHOOK_SECRET },
    ...webhookSettings(config),
  };
  const routed = async () => {
    const all = await store.list();
    return {
      dc: all.filter((f) => ['critical', 'high'].includes(f.severity)),
      local: all.filter((f) => !['critical', 'high'].includes(f.severity)),
    };
  };
  return { jira, store, clock, sync, tick, tickets, webhookDeps, routed, client, tableName };
}

describe('Jira Data Center sync (a REST v2 stand-in on 127.0.0.1, request shapes checked)', () => {
  let jira: FakeJiraDc | undefined;
  afterEach(async () => jira?.stop());

  it('keeps each done work as a record of what was sent, out of the outbox: what the create told, and comments with their batch', async () => {
    const w = await world();
    jira = w.jira;
    expect((await w.sync()).problems).toEqual([]);
    w.clock.advance(10 * DAY);
    await w.tick(); // SLA breaches: comments and priority changes
    expect((await w.sync()).problems).toEqual([]);
    const items = (await w.client.send(new ScanCommand({ TableName: w.tableName }))).Items ?? [];
    const works = storedWorks(items.map((i) => unmarshall(i)));
    expect(works.length).toBeGreaterThan(0);
    for (const work of works)
      expect(work).toMatchObject({ state: 'done', doneAt: expect.any(String), text: expect.any(String) });
    expect(works.filter((x) => x.inOutbox || x.lastError !== undefined)).toEqual([]);
    const commented = works.filter((x) => x.action === 'sla.breached');
    expect(commented.length).toBeGreaterThan(0);
    for (const work of commented) expect(work).toMatchObject({ attempts: 1, batch: expect.any(String) });
    expect(await w.tickets.countPending()).toBe(0);
  });

  it('routes a team’s findings to Jira DC with wiki-markup descriptions, a PAT, assignees by name; the rest stay local', async () => {
    const w = await world();
    jira = w.jira;
    const result = await w.sync();
    expect(result.problems).toEqual([]);
    const { dc, local } = await w.routed();
    expect(dc.length).toBeGreaterThan(0);
    expect(local.length).toBeGreaterThan(0);
    expect(w.jira.violations).toEqual([]);
    expect(w.jira.issues.size).toBe(dc.length);
    for (const f of dc) {
      const [issue] = w.jira.withLabel(ticketLabel(f.id));
      expect(issue).toBeDefined();
      expect(issue!.fields).toMatchObject({
        project: { key: 'SEC' },
        labels: ['closeloop', ticketLabel(f.id)],
        assignee: { name: 'casey' },
        duedate: f.dueAt!.slice(0, 10),
      });
      expect(issue!.fields.description).toMatch(/^h3\. What\n\* /);
      const current = (await w.store.get(f.id))!;
      expect(current.ticket).toMatchObject({
        system: 'jira-dc',
        key: issue!.key,
        url: `${w.jira.url}/browse/${issue!.key}`,
      });
      expect(await w.tickets.findingForTicketKey('jira-dc', issue!.key)).toBe(f.id);
    }
    for (const f of local) expect((await w.store.get(f.id))!.ticket?.system).toBe('local');
    const sent = JSON.stringify(w.jira.requests);
    for (const secret of REPORT_FIXTURE_SECRETS) expect(sent).not.toContain(secret);
  });

  it('never creates a second issue after a lost bulk-create answer: it looks the label up once the search lag has passed', async () => {
    const w = await world({
      fault: (r) => (r.route === '/rest/api/2/issue/bulk' && r.n === 1 ? 'drop-after' : 'none'),
      indexLagMs: 250,
    });
    jira = w.jira;
    // The sync waits out the search lag within its run, then finds the issues instead of creating them again.
    const lost = await w.sync();
    expect(lost.problems.join('\n')).toMatch(/had no clear answer .*looked up before any retry/);
    expect(lost.pending).toBe(0);
    const again = await w.sync();
    expect(again).toMatchObject({ created: 0, pending: 0, problems: [] });
    const { dc } = await w.routed();
    for (const f of dc) expect(w.jira.withLabel(ticketLabel(f.id))).toHaveLength(1);
    expect(w.jira.requests.filter((r) => r.route === '/rest/api/2/issue/bulk')).toHaveLength(1);
    expect(w.jira.requests.some((r) => r.route === '/rest/api/2/search')).toBe(true);
    expect(w.jira.violations).toEqual([]);
  });

  it('escalates an overdue finding with one comment carrying its work id, even when the first answer is lost, and raises the priority', async () => {
    let dropNextComment = false;
    const w = await world({
      fault: (r) => {
        if (dropNextComment && r.method === 'POST' && r.route.endsWith('/comment')) {
          dropNextComment = false;
          return 'drop-after';
        }
        return 'none';
      },
    });
    jira = w.jira;
    await w.sync();
    const { dc } = await w.routed();
    const high = dc.find((f) => f.severity === 'high') ?? dc[0]!;
    const key = (await w.store.get(high.id))!.ticket!.key;
    const before = w.jira.issues.get(key)!.comments.length;
    w.clock.advance(10 * DAY);
    await w.tick();
    dropNextComment = true;
    const first = await w.sync();
    expect(first.problems.join('\n')).toMatch(/sla\.breached/);
    await w.sync();
    const comments = w.jira.issues.get(key)!.comments.slice(before);
    const breach = comments.filter((c) => c.body.includes('Overdue: it was due'));
    expect(breach).toHaveLength(1);
    expect(breach[0]!.body).toMatch(/\{color:#97a0af\}\{\{closeloop work NHI-[0-9A-F]{16}-\d+\}\}\{color\}$/);
    // One step above the severity's priority (High → Highest; a critical one is at the top already).
    expect(w.jira.issues.get(key)!.fields.priority).toEqual({ name: 'Highest' });
    expect(w.jira.violations).toEqual([]);
  });

  it('takes signed Data Center webhooks: Closed records the resolution, a wrong signature is 401, a replay does nothing', async () => {
    const w = await world();
    jira = w.jira;
    await w.sync();
    const { dc } = await w.routed();
    const target = dc.find((f) => f.lifecycle?.waitingAt === 'AwaitOwnerFix')!;
    const key = (await w.store.get(target.id))!.ticket!.key;
    w.jira.setStatus(key, 'Closed');
    const body = JSON.stringify({
      timestamp: T0,
      webhookEvent: 'jira:issue_updated',
      user: { name: 'casey', emailAddress: 'casey@acme-fixtures.example', displayName: 'Casey' },
      issue: {
        id: '20001',
        key,
        fields: {
          labels: ['closeloop', ticketLabel(target.id)],
          status: { name: 'Closed', statusCategory: { key: 'done' } },
          resolution: { name: 'Fixed' },
        },
      },
      changelog: { items: [{ field: 'status', fromString: 'Open', toString: 'Closed' }] },
    });
    const unsigned = await handleTicketWebhook(
      'jira-dc',
      body,
      { 'X-Hub-Signature': 'sha256=' + '0'.repeat(64) },
      w.webhookDeps,
    );
    expect(unsigned.statusCode).toBe(401);
    const headers = { 'X-Hub-Signature': signBody(body, WEBHOOK_SECRET) };
    const applied = await handleTicketWebhook('jira-dc', body, headers, w.webhookDeps);
    expect(applied.statusCode).toBe(200);
    expect(JSON.parse(applied.body)).toMatchObject({ outcome: 'applied' });
    const events = (await w.store.events(target.id)).map((e) => e.action);
    expect(events).toContain('evidence.recorded');
    // Data Center names its users by user name (no accountId): the actor is that user, never "unknown".
    expect((await w.store.events(target.id)).find((e) => e.action === 'evidence.recorded')).toMatchObject({
      actor: 'casey@acme-fixtures.example',
      actorIdentity: 'jira-dc:casey',
    });
    const replay = await handleTicketWebhook('jira-dc', body, headers, w.webhookDeps);
    expect(JSON.parse(replay.body)).toMatchObject({ outcome: 'duplicate' });
    expect((await w.store.events(target.id)).filter((e) => e.action === 'evidence.recorded')).toHaveLength(
      events.filter((a) => a === 'evidence.recorded').length,
    );
  });

  it('has live request checks: a Cloud-shaped issue (ADF description, accountId assignee) is a violation and a per-item error', async () => {
    jira = await new FakeJiraDc().start();
    const response = await fetch(`${jira.url}/rest/api/2/issue/bulk`, {
      method: 'POST',
      headers: { authorization: 'Bearer dc-pat', 'content-type': 'application/json' },
      body: JSON.stringify({
        issueUpdates: [
          {
            fields: {
              project: { key: 'SEC' },
              issuetype: { name: 'Task' },
              summary: 'one line',
              description: { type: 'doc', version: 1, content: [] },
              assignee: { accountId: 'abc' },
            },
          },
        ],
      }),
    });
    expect(response.status).toBe(400);
    expect(jira.violations).toEqual([
      'issueUpdates[0]: fields.description must be a string (wiki markup); REST v2 takes no ADF',
      'issueUpdates[0]: fields.assignee must be {"name"} (Data Center has no account ids)',
    ]);
    const unauthenticated = await fetch(`${jira.url}/rest/api/2/search`, { method: 'POST', body: '{}' });
    expect(unauthenticated.status).toBe(401);
  });
});
