import type { Clock } from '@core/shared/clock';
import { updateFinding } from '@core/finding/update';
import { fireDueTimers } from '@core/lifecycle/timers';
import { SingleTable } from '@core/store/table';
import { DEFAULT_POLICY, parsePolicy, type Policy } from '@core/policy/policy';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import { ticketDraft } from '@core/tickets/draft';
import { ticketLabel } from '@core/tickets/model';
import { reportFixed, requestException } from '@core/lifecycle/decisions';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { adfText } from '@connectors/sinks/jira/adf';
import { LocalLifecycleRunner } from '@local/lifecycle-runner';
import { aFreshStore } from './dynamo';
import { aHasher } from './factories';
import { plannedRotations } from './planned-remediation';
import { FakeJira, type JiraFault } from './fake-jira';
import { REPORT_FIXTURE_SECRETS, reportFixture } from './fixtures';
import type { JiraContract } from './jira-contract';
import { aJiraSink, syncDeps, syncTickets } from './tickets';

const T0 = Date.parse('2026-11-01T09:00:00.000Z');
const DAY = 86_400_000;
const REPORTS = [
  reportFixture('gitleaks-many.json'),
  reportFixture('trufflehog-git.jsonl'),
  reportFixture('gitleaks-git.json'),
];
/** Owners are emails, so issues get assignees; one owner is not a Jira user. */
const POLICY = parsePolicy({ ownerMappings: [{ asset: '*', owner: 'dev-team@example.com' }] }, 'test policy');

function movableClock(): Clock & { advance(ms: number): void } {
  let now = T0;
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

/**
 * The Jira sync scenarios against the Jira stand-in. `npm test` runs them with closeloop's own
 * checks (test/integration/jira-sync.test.ts); the contract suite runs the same scenarios with every
 * request checked against Atlassian's REST spec (test/contract/jira/jira-sync.test.ts).
 */
export function describeJiraSync(title: string, contract: () => JiraContract): void {
  describe(title, () => {
    let jira: FakeJira;
    afterEach(async () => jira?.stop());

    async function setup(
      options: {
        fault?: (r: { method: string; route: string; n: number }) => JiraFault;
        indexLagMs?: number;
        jiraEnv?: Record<string, string>;
        /** The policy lifecycles and the sync run under. @default owners mapped to an email Jira knows */
        policy?: Policy;
      } = {},
    ) {
      const policy = options.policy ?? POLICY;
      jira = await new FakeJira({
        users: [{ accountId: 'acc-dev-team', emailAddress: 'dev-team@example.com' }],
        contract: contract(),
        ...options,
      }).start();
      const { client, tableName, store } = await aFreshStore();
      const clock = movableClock();
      await ingestReportFiles(REPORTS, { store, clock, hasher: aHasher() });
      // The user's first day: the plan finds managed secrets for some credentials, so approvals are pending.
      const runner = new LocalLifecycleRunner({ store, clock, policy, remediation: plannedRotations(store, policy) });
      for (const f of await store.list()) await runner.start(f);
      const open = await store.list();
      const deps = (worker = 'w1') =>
        syncDeps({ client, tableName, store, clock, policy, jira: aJiraSink(jira, options.jiraEnv), worker });
      return {
        client,
        tableName,
        store,
        clock,
        runner,
        open,
        deps,
        tickets: new DynamoTicketStore(new SingleTable(client, tableName)),
      };
    }

    it('creates exactly one issue per open finding through bulk create, with ADF descriptions, labels, priority, due date and assignee', async () => {
      const { deps, open, store } = await setup();
      const result = await syncTickets(deps());
      expect(result).toMatchObject({ created: open.length, pending: 0, problems: [] });
      expect(jira.issues.size).toBe(open.length);
      expect(jira.violations).toEqual([]);
      expect(jira.counts()['POST /rest/api/3/issue/bulk']).toBe(Math.ceil(open.length / 50));
      expect(jira.counts()['POST /rest/api/3/search/jql']).toBeUndefined(); // nothing was uncertain, so nothing to look up
      const critical = open.find((f) => f.severity === 'critical') ?? open[0]!;
      const [issue] = jira.withLabel(ticketLabel(critical.id));
      expect(issue!.fields).toMatchObject({
        project: { key: 'SEC' },
        labels: ['closeloop', ticketLabel(critical.id)],
        priority: { name: critical.severity === 'critical' ? 'Highest' : expect.any(String) },
        duedate: critical.dueAt!.slice(0, 10),
        assignee: { accountId: 'acc-dev-team' },
      });
      const description = adfText(issue!.fields.description);
      for (const words of [
        'What',
        'Where',
        'Why it matters',
        'OWASP NHI Top 10',
        'NIST CSF 2.0',
        'Evidence required',
        `Due ${critical.dueAt!.slice(0, 10)}`,
        'closeloop exception request',
      ])
        expect(description).toContain(words);
      const linked = (await store.get(critical.id))!;
      expect(linked.ticket).toEqual({ system: 'jira', key: issue!.key, url: `${jira.url}/browse/${issue!.key}` });
      expect((await store.events(critical.id)).map((e) => e.action)).toContain('ticket.created');
    });

    it('sets the configured components and custom fields on every issue (JIRA_COMPONENTS, JIRA_CUSTOM_FIELDS), within the spec', async () => {
      const { deps, open } = await setup({
        jiraEnv: {
          JIRA_COMPONENTS: 'Identity, Secrets ',
          JIRA_CUSTOM_FIELDS: '{"customfield_10050":"NHI programme","customfield_10051":{"value":"Tier 1"}}',
        },
      });
      expect(await syncTickets(deps())).toMatchObject({ created: open.length, problems: [] });
      expect(jira.violations).toEqual([]);
      for (const issue of jira.issues.values()) {
        expect(issue.fields).toMatchObject({
          components: [{ name: 'Identity' }, { name: 'Secrets' }],
          customfield_10050: 'NHI programme',
          customfield_10051: { value: 'Tier 1' },
        });
      }
      expect(() => aJiraSink(jira, { JIRA_CUSTOM_FIELDS: '{"priority":"High"}' })).toThrow(
        'JIRA_CUSTOM_FIELDS must be a JSON object of customfield_<number> keys',
      );
    });

    it('sends no secret to Jira: not in summaries, descriptions, comments or labels', async () => {
      const { deps, clock, store } = await setup();
      await syncTickets(deps());
      clock.advance(40 * DAY);
      await fireDueTimers({ store, clock, policy: POLICY });
      await syncTickets(deps());
      const everything = jira.rawBodies.join('\n');
      expect(everything).toContain('ci/deploy_key'); // the bodies are there, and name where the secrets are
      for (const secret of REPORT_FIXTURE_SECRETS) expect(everything).not.toContain(secret);
    });

    it('does nothing on a second sync: no request reaches Jira', async () => {
      const { deps } = await setup();
      await syncTickets(deps());
      const before = jira.requests.length;
      expect(await syncTickets(deps())).toMatchObject({ created: 0, updated: 0, pending: 0 });
      expect(jira.requests.length).toBe(before);
    });

    it('comments on an SLA breach and raises the priority; closes the issue through a transition when the finding resolves', async () => {
      const { deps, clock, runner, store, open } = await setup();
      await syncTickets(deps());
      // One a resolution note closes (an AWS key needs a rotation record or a deactivated key).
      const finding = open.find(
        (f) =>
          f.severity !== 'critical' && f.nhiType !== 'cloud_access_key' && f.lifecycle?.waitingAt === 'AwaitOwnerFix',
      )!;
      clock.advance(Date.parse(finding.dueAt!) - clock.now().getTime() + 1000);
      await fireDueTimers({ store, clock, policy: POLICY });
      await syncTickets(deps());
      const [issue] = jira.withLabel(ticketLabel(finding.id));
      const comments = issue!.comments.map((c) => adfText(c.body));
      expect(comments).toEqual([
        `closeloop: Overdue: it was due ${finding.dueAt!.slice(0, 10)}; escalated to identity-programme.`,
      ]);
      const ladder = ['Highest', 'High', 'Medium', 'Low', 'Lowest'];
      const base = { critical: 'Highest', high: 'High', medium: 'Medium', low: 'Low', info: 'Lowest' }[
        finding.severity
      ];
      expect((issue!.fields.priority as { name: string }).name).toBe(ladder[Math.max(0, ladder.indexOf(base) - 1)]);

      await reportFixed(
        {
          store,
          clock,
          policy: POLICY,
          signaller: {
            signal: async (f, resumeAt, signal) => (await runner.resume(f, resumeAt, { signal }), 'resumed'),
          },
        },
        { id: finding.id, by: 'dev-team@example.com', note: 'rotated the key and removed it from history' },
      );
      expect((await store.get(finding.id))!.status).toBe('resolved');
      expect(await syncTickets(deps())).toMatchObject({ pending: 0, problems: [] });
      expect(issue!.status).toBe('Done');
      expect(jira.violations).toEqual([]);
    });

    it('leaves the issue unassigned, saying so in its description, when the owner is not a Jira user', async () => {
      const { deps, open, store } = await setup();
      const f = open[0]!;
      // Reassigned, as triage records it: an owner change always comes with its audit event.
      await updateFinding(store, { now: () => new Date() }, f.id, (current) => ({
        finding: { ...current, owner: 'team-without-jira' },
        events: [
          { actor: 'closeloop:lifecycle', action: 'owner.assigned', from: current.owner, to: 'team-without-jira' },
        ],
      }));
      await syncTickets(deps());
      const [issue] = jira.withLabel(ticketLabel(f.id));
      expect(issue!.fields.assignee).toBeUndefined();
      expect(adfText(issue!.fields.description)).toContain(
        'Unassigned in Jira: the owner "team-without-jira" could not be matched to a Jira user; assign it to them by hand.',
      );
      expect(issue!.comments).toEqual([]);
    });

    it('creates every issue under the default policy (owners unmatched, approvals pending) with what is known, and no comment: bulk creates only', async () => {
      const { deps, open } = await setup({ policy: DEFAULT_POLICY });
      const approvals = open.filter((f) => f.lifecycle?.waitingAt === 'AwaitApproval');
      expect(approvals.length).toBeGreaterThan(0); // the user's first day: approvals pending, nobody matched
      expect(open.every((f) => f.ownerVia === 'unowned_queue')).toBe(true);
      expect(await syncTickets(deps())).toMatchObject({ created: open.length, updated: 0, pending: 0, problems: [] });
      // Nothing but the bulk creates: no comment at birth, no user search for a queue.
      expect(jira.counts()).toEqual({ 'POST /rest/api/3/issue/bulk': Math.ceil(open.length / 50) });
      for (const f of open) {
        const [issue] = jira.withLabel(ticketLabel(f.id));
        expect(issue!.comments).toEqual([]);
        const description = adfText(issue!.fields.description);
        expect(description).toContain(
          'Unassigned: the owner could not be matched (no CMDB owner, resource tag or configured mapping), so it is in the identity-programme queue; identity-programme was told.',
        );
        expect(description).toContain(`Due ${f.dueAt!.slice(0, 10)}`);
        expect(description).toContain('Evidence required (any one): ');
        expect(issue!.fields.duedate).toBe(f.dueAt!.slice(0, 10));
      }
      const waiting = approvals[0]!;
      const role = DEFAULT_POLICY.approverRoles[waiting.severity];
      expect(adfText(jira.withLabel(ticketLabel(waiting.id))[0]!.fields.description)).toContain(
        `Waiting for a decision: approve or reject the automated rotation. Someone holding the "${role}" role decides.`,
      );
      expect(jira.violations).toEqual([]);
    });

    it("sends one round's events of a ticket as one comment (an SLA breach and an exception request), and raises the priority once", async () => {
      const { deps, clock, runner, store, open } = await setup();
      await syncTickets(deps());
      const finding =
        open.find((f) => f.severity === 'medium' && f.lifecycle?.waitingAt === 'AwaitOwnerFix') ??
        open.find((f) => f.severity !== 'critical' && f.lifecycle?.waitingAt === 'AwaitOwnerFix')!;
      const before = jira.counts();
      clock.advance(Date.parse(finding.dueAt!) - clock.now().getTime() + 1000);
      await fireDueTimers({ store, clock, policy: POLICY });
      const until = new Date(clock.now().getTime() + 20 * DAY);
      await requestException(
        {
          store,
          clock,
          policy: POLICY,
          signaller: {
            signal: async (f, resumeAt, signal) => (await runner.resume(f, resumeAt, { signal }), 'resumed'),
          },
        },
        { id: finding.id, by: 'dev-team@example.com', until, reason: 'vendor rotates it next sprint' },
      );
      // Every finding due by then breached too: each of their tickets gets one comment and one priority change.
      const synced = await syncTickets(deps());
      expect(synced).toMatchObject({ pending: 0, problems: [] });
      expect(synced.updated).toBeGreaterThanOrEqual(1);
      const [issue] = jira.withLabel(ticketLabel(finding.id));
      expect(issue!.comments.map((c) => adfText(c.body))).toEqual([
        [
          `closeloop: Overdue: it was due ${finding.dueAt!.slice(0, 10)}; escalated to identity-programme.`,
          `Waiting for a decision: dev-team@example.com asks to accept the risk until ${until.toISOString().slice(0, 10)}: vendor rotates it next sprint. Someone holding the "${POLICY.approverRoles[finding.severity]}" role decides, never the owner or the requester.`,
        ].join('\n'),
      ]);
      const after = jira.counts();
      expect(
        (after['POST /rest/api/3/issue/{issueIdOrKey}/comment'] ?? 0) -
          (before['POST /rest/api/3/issue/{issueIdOrKey}/comment'] ?? 0),
      ).toBe(synced.updated);
      expect(
        (after['PUT /rest/api/3/issue/{issueIdOrKey}'] ?? 0) - (before['PUT /rest/api/3/issue/{issueIdOrKey}'] ?? 0),
      ).toBe(synced.updated);
      expect(jira.violations).toEqual([]);
    });

    describe('Jira sync, exactly once under failure', () => {
      it('creates the issues unassigned, saying so in their description, when Jira user search keeps failing', async () => {
        const { deps, open } = await setup({
          fault: ({ route }) => (route === '/rest/api/3/user/search' ? '503' : 'none'),
        });
        const result = await syncTickets(deps());
        expect(result).toMatchObject({ created: open.length, pending: 0 });
        const [issue] = jira.withLabel(ticketLabel(open[0]!.id));
        expect(issue!.fields.assignee).toBeUndefined();
        expect(adfText(issue!.fields.description)).toContain(
          'Unassigned in Jira: the owner "dev-team@example.com" could not be matched to a Jira user',
        );
      });

      const oneIssueEach = (open: Array<{ id: string }>) => open.map((f) => jira.withLabel(ticketLabel(f.id)).length);

      it('never creates a second issue when Jira created the issues but the answer was lost (search still lagging)', async () => {
        let dropped = false;
        const { deps, open } = await setup({
          indexLagMs: 200,
          fault: ({ route }) =>
            route === '/rest/api/3/issue/bulk' && !dropped ? ((dropped = true), 'drop-after') : 'none',
        });
        const result = await syncTickets(deps());
        expect(result.pending).toBe(0);
        expect(oneIssueEach(open)).toEqual(open.map(() => 1));
        expect(jira.counts()['POST /rest/api/3/issue/bulk']).toBe(1); // found by label: never sent again
        expect(jira.counts()['POST /rest/api/3/search/jql']).toBeGreaterThanOrEqual(1);
      });

      it('recovers from a crash between "Jira created it" and "we stored the key"', async () => {
        const { deps, open, tickets, store } = await setup({ indexLagMs: 100 });
        // The crashed worker: it claimed, recorded its intent, called Jira, and died.
        const crashed = deps('crashed-worker');
        const f = open[0]!;
        const wall = Date.now();
        // Its lease has run out by the time the next worker comes (leases are wall-clock time).
        await tickets.claimTicket(
          f.id,
          { kind: 'jira', project: 'SEC' },
          'crashed-worker',
          new Date(wall).toISOString(),
          new Date(wall - 1).toISOString(),
        );
        await tickets.markCreateSent(f.id, 'crashed-worker', new Date(wall).toISOString(), 0);
        await crashed.sinks.jira!.create([ticketDraft((await store.get(f.id))!, POLICY)], {
          kind: 'jira',
          project: 'SEC',
        });
        expect(jira.withLabel(ticketLabel(f.id))).toHaveLength(1);

        const result = await syncTickets(deps('w2'));
        expect(result.pending).toBe(0);
        expect(oneIssueEach(open)).toEqual(open.map(() => 1));
        expect((await store.get(f.id))!.ticket?.key).toBe(jira.withLabel(ticketLabel(f.id))[0]!.key);
      });

      it('ends with exactly one issue per finding under random 429s, 503s and lost answers, and posts each comment once', async () => {
        let seed = 42;
        const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
        const faults: JiraFault[] = ['429', '503', 'drop-after', 'drop-before'];
        let bulkCalls = 0;
        const { deps, open, clock, store } = await setup({
          indexLagMs: 50,
          // The first bulk create always loses its answer; every other request fails 30% of the time.
          fault: ({ route }) =>
            route === '/rest/api/3/issue/bulk' && bulkCalls++ === 0
              ? 'drop-after'
              : random() < 0.3
                ? faults[Math.floor(random() * faults.length)]!
                : 'none',
        });
        let result = await syncTickets(deps());
        for (let i = 0; i < 10 && result.pending > 0; i++) result = await syncTickets(deps());
        expect(result.pending).toBe(0);
        expect(oneIssueEach(open)).toEqual(open.map(() => 1));

        clock.advance(40 * DAY);
        await fireDueTimers({ store, clock, policy: POLICY });
        result = await syncTickets(deps());
        for (let i = 0; i < 10 && result.pending > 0; i++) result = await syncTickets(deps());
        expect(result.pending).toBe(0);
        for (const f of open) {
          const [issue] = jira.withLabel(ticketLabel(f.id));
          const ids = issue!.comments
            .map((c) => (c.properties.find((p) => p.key === 'closeloop.work')?.value as { id: string } | undefined)?.id)
            .filter(Boolean);
          expect(new Set(ids).size).toBe(ids.length);
        }
        expect(jira.violations).toEqual([]);
      });

      it('two workers at once create one issue per finding', async () => {
        const { deps, open } = await setup({ indexLagMs: 50 });
        const [a, b] = await Promise.all([syncTickets(deps('worker-a')), syncTickets(deps('worker-b'))]);
        expect(a.created + b.created).toBe(open.length);
        expect(oneIssueEach(open)).toEqual(open.map(() => 1));
      });

      it('records a per-item refusal from bulk create and keeps that work pending, without sinking the batch', async () => {
        // A priority this Jira does not have, for one severity only: Jira refuses those elements.
        const { deps, open, tickets } = await setup({ jiraEnv: { JIRA_PRIORITIES: 'high=Urgent' } });
        const refused = open.filter((f) => f.severity === 'high');
        expect(refused.length).toBeGreaterThan(0);
        expect(refused.length).toBeLessThan(open.length);
        const result = await syncTickets(deps());
        expect(result.created).toBe(open.length - refused.length);
        expect(result.pending).toBeGreaterThan(0);
        expect(result.problems).toContainEqual(
          `${refused[0]!.id}: Jira refused the ticket: priority: Specify a valid priority (Urgent is not one)`,
        );
        expect((await tickets.tickets([refused[0]!.id])).get(refused[0]!.id)).toMatchObject({
          createOutcome: 'rejected',
        });
        for (const f of refused) expect(jira.withLabel(ticketLabel(f.id))).toEqual([]);
      });
    });
  });
}
