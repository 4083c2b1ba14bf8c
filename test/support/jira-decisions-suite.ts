import { readFileSync } from 'node:fs';
import { handleTicketWebhook } from '@connectors/api/webhooks';
import { adfText } from '@connectors/sinks/jira/adf';
import { JIRA_DEFAULT_DECISIONS } from '@connectors/sinks/jira/config';
import { signBody } from '@connectors/sinks/webhook-signature';
import { requestException } from '@core/lifecycle/decisions';
import { ticketLabel } from '@core/tickets/model';
import { FakeJira } from './fake-jira';
import type { JiraContract } from './jira-contract';
import { ownFixturePath } from './fixtures';
import {
  JIRA_ALICE,
  JIRA_DEVELOPER,
  JIRA_SECRET,
  POLICY,
  T0,
  aWebhookWorld,
  retargetedJiraIssueUpdated,
} from './ticket-webhooks';
import { aJiraSink, syncDeps, syncTickets } from './tickets';

const DELIVERY = JSON.parse(readFileSync(ownFixturePath('jira', 'webhook-issue-updated.json'), 'utf8')) as unknown;
/** The decision statuses of the team's workflow: each reached by a transition of its name (the default JIRA_DECISIONS). */
const DECISION_STATUSES = [
  'Approve remediation',
  'Reject remediation',
  'Approve exception',
  'Reject exception',
  'Claim false positive',
  'Confirm false positive',
].map((name) => ({ name, category: 'indeterminate' as const }));
const ALICE = { accountId: JIRA_ALICE, displayName: 'Alice Approver' };
const DEVELOPER = { accountId: JIRA_DEVELOPER, displayName: 'Riley Developer' };
let delivered = 0;

/** A Jira world: findings waiting (two for approval), their issues created by the sync in the Jira stand-in. */
async function aJiraWorld(contract: () => JiraContract, env: Record<string, string> = {}) {
  const jira = await new FakeJira({
    contract: contract(),
    users: [{ accountId: 'acc-dev-team', emailAddress: 'dev-team@example.com' }],
    extraStatuses: DECISION_STATUSES,
  }).start();
  // The team's workflow has the default decisions, and says so (JIRA_DECISIONS), so tickets tell how to decide.
  env = { JIRA_DECISIONS: JIRA_DEFAULT_DECISIONS, ...env };
  const world = await aWebhookWorld(null, env, ['gitleaks-git.json']);
  const sync = () =>
    syncTickets(
      syncDeps({
        client: world.client,
        tableName: world.tableName,
        store: world.store,
        clock: world.clock,
        policy: POLICY,
        jira: aJiraSink(jira, env),
      }),
    );
  expect(await sync()).toMatchObject({ pending: 0, problems: [] });
  const issueOf = (id: string) => jira.withLabel(ticketLabel(id))[0]!;
  /** A person moves the issue in Jira (to a status, or sets the decision field) and Jira sends the signed delivery. */
  const act = async (
    id: string,
    user: { accountId: string; displayName: string },
    change: { to: string } | { field: string; value: string },
  ) => {
    const issue = issueOf(id);
    const from = issue.status;
    let body: string;
    if ('to' in change) {
      issue.status = change.to;
      body = retargetedJiraIssueUpdated(
        DELIVERY,
        id,
        issue.key,
        { to: change.to, from, category: 'indeterminate' },
        {
          user,
          at: T0 + ++delivered,
        },
      );
    } else {
      issue.fields[change.field] = { value: change.value };
      const event = JSON.parse(
        retargetedJiraIssueUpdated(DELIVERY, id, issue.key, { to: from, from }, { user, at: T0 + ++delivered }),
      ) as { changelog: { items: unknown[] } };
      event.changelog.items = [
        { field: 'Decision', fieldtype: 'custom', fieldId: change.field, fromString: null, toString: change.value },
      ];
      body = JSON.stringify(event);
    }
    return JSON.parse(
      (await handleTicketWebhook('jira', body, { 'x-hub-signature': signBody(body, JIRA_SECRET) }, world.deps)).body,
    ) as { outcome: string; message: string };
  };
  const waitingFor = async (waitingAt: string) =>
    (await world.store.list()).filter((f) => f.lifecycle?.waitingAt === waitingAt);
  return { ...world, jira, sync, issueOf, act, waitingFor };
}

/**
 * Decisions taken in Jira against the Jira stand-in on 127.0.0.1: the integration suite checks its requests
 * with the stand-in's own checks (test/integration/ticket-decisions.test.ts), the contract suite against
 * Atlassian's REST v3 spec (test/contract/jira/ticket-decisions.test.ts).
 */
export function describeJiraDecisions(title: string, contract: () => JiraContract): void {
  describe(title, () => {
    let world: Awaited<ReturnType<typeof aJiraWorld>> | undefined;
    afterEach(async () => world?.jira.stop());

    it('shows on every issue what it waits for and who may decide, and an approver approves the rotation by moving the issue', async () => {
      world = await aJiraWorld(contract);
      const [waiting] = await world.waitingFor('AwaitApproval');
      const description = adfText(world.issueOf(waiting!.id).fields.description);
      expect(description).toContain(
        'Waiting for a decision: approve or reject the automated rotation. Someone holding the "approver" role decides.',
      );
      expect(description).toContain(
        'Decide in Jira: move the issue to "Approve remediation", "Reject remediation", "Approve" or "Reject". closeloop checks that you hold the "approver" role and did not ask for it yourself; a refusal is commented here and the issue goes back.',
      );
      const [owned] = await world.waitingFor('AwaitOwnerFix');
      expect(adfText(world.issueOf(owned!.id).fields.description)).toContain(
        'In Jira: move the issue to "Claim false positive" if it is not a real exposure; an approver decides.',
      );

      expect(await world.act(waiting!.id, ALICE, { to: 'Approve remediation' })).toMatchObject({ outcome: 'applied' });
      const events = await world.store.events(waiting!.id);
      expect(events.find((e) => e.action === 'approval.granted')).toMatchObject({
        actor: 'alice',
        actorIdentity: `jira:${JIRA_ALICE}`,
      });
      expect((await world.store.get(waiting!.id))!.lifecycle?.waitingAt).not.toBe('AwaitApproval');
      expect(world.jira.violations).toEqual([]);
    });

    it("refuses an owner approving their own exception from Jira: the reason is commented and the issue goes back to where it waited; then an approver's approval stands", async () => {
      world = await aJiraWorld(contract);
      const [finding] = await world.waitingFor('AwaitOwnerFix');
      await requestException(world.deps, {
        id: finding!.id,
        by: 'dev-team@example.com',
        until: new Date(T0 + 30 * 86_400_000),
        reason: 'the vendor rotates it in the next release',
      });
      await world.sync();
      const issue = world.issueOf(finding!.id);
      const asked = issue.comments.map((c) => adfText(c.body)).at(-1)!;
      expect(asked).toContain('Waiting for a decision: dev-team@example.com asks to accept the risk until');
      expect(asked).toContain(
        'Decide in Jira: move the issue to "Approve exception", "Reject exception", "Approve" or "Reject".',
      );
      expect(issue.status).toBe('To Do');

      const refused = await world.act(finding!.id, DEVELOPER, { to: 'Approve exception' });
      const reason = `separation of duties: dev-team@example.com requested this exception and cannot approve it`;
      expect(refused).toEqual({ outcome: 'refused', message: reason });
      expect((await world.store.get(finding!.id))!).toMatchObject({
        status: 'open',
        exception: { requestedBy: 'dev-team@example.com' },
        lifecycle: { waitingAt: 'AwaitExceptionApproval' },
      });
      expect((await world.store.get(finding!.id))!.exception?.approvedBy).toBeUndefined();
      expect(await world.sync()).toMatchObject({ pending: 0, problems: [] });
      const comment = issue.comments.map((c) => adfText(c.body)).at(-1)!;
      expect(comment).toContain(
        `closeloop: Refused: ${reason}. "Approve exception" was not taken; the ticket is back where it waits: Waiting for a decision:`,
      );
      expect(comment).toContain(
        'Decide in Jira: move the issue to "Approve exception", "Reject exception", "Approve" or "Reject".',
      );
      expect(issue.status).toBe('To Do');
      const audit = (await world.store.events(finding!.id)).find((e) => e.action === 'decision.refused');
      expect(audit).toMatchObject({ actor: 'dev-team@example.com', actorIdentity: `jira:${JIRA_DEVELOPER}`, reason });

      expect(await world.act(finding!.id, ALICE, { to: 'Approve exception' })).toMatchObject({ outcome: 'applied' });
      expect((await world.store.get(finding!.id))!).toMatchObject({
        status: 'risk_accepted',
        exception: { approvedBy: 'alice' },
      });
      expect(world.jira.violations).toEqual([]);
    });

    it('takes decisions from a select custom field (JIRA_DECISION_FIELD): a refusal clears it, an approver sets it', async () => {
      world = await aJiraWorld(contract, { JIRA_DECISION_FIELD: 'customfield_10060' });
      const [waiting] = await world.waitingFor('AwaitApproval');
      // A developer of the owning team holds no approver role.
      const refused = await world.act(waiting!.id, DEVELOPER, { field: 'customfield_10060', value: 'Approve' });
      expect(refused).toEqual({
        outcome: 'refused',
        message: 'dev-team@example.com does not hold the approver role required to approve medium findings',
      });
      await world.sync();
      expect(world.issueOf(waiting!.id).fields.customfield_10060).toBeNull();
      expect(await world.act(waiting!.id, ALICE, { field: 'customfield_10060', value: 'Approve' })).toMatchObject({
        outcome: 'applied',
      });
      expect((await world.store.events(waiting!.id)).map((e) => e.action)).toContain('approval.granted');
      expect(world.jira.violations).toEqual([]);
    });

    it('takes a false-positive claim from the owner and its confirmation from an approver, never from the claimant', async () => {
      world = await aJiraWorld(contract);
      const [finding] = await world.waitingFor('AwaitOwnerFix');
      expect(await world.act(finding!.id, DEVELOPER, { to: 'Claim false positive' })).toMatchObject({
        outcome: 'applied',
      });
      expect((await world.store.get(finding!.id))!.falsePositiveClaim).toMatchObject({
        claimedBy: 'dev-team@example.com',
      });
      await world.sync();
      expect(
        world
          .issueOf(finding!.id)
          .comments.map((c) => adfText(c.body))
          .at(-1),
      ).toContain('Waiting for a decision: claimed to be a false positive by dev-team@example.com');
      const own = await world.act(finding!.id, DEVELOPER, { to: 'Confirm false positive' });
      expect(own).toMatchObject({ outcome: 'refused', message: expect.stringMatching(/^separation of duties: /) });
      await world.sync();
      expect(await world.act(finding!.id, ALICE, { to: 'Confirm false positive' })).toMatchObject({
        outcome: 'applied',
      });
      expect((await world.store.get(finding!.id))!.status).toBe('false_positive');
      await world.sync();
      expect(world.issueOf(finding!.id).status).toBe('Done');
      expect(world.jira.violations).toEqual([]);
    });

    it('moves an issue marked Done without the evidence its finding needs back out of Done, saying what is missing', async () => {
      world = await aJiraWorld(contract);
      // An AWS key closes on a rotation record, a deactivated key or a revocation: a resolution note is not enough.
      const key = (await world.waitingFor('AwaitOwnerFix')).find((f) => f.nhiType === 'cloud_access_key');
      expect(key).toBeDefined();
      const issue = world.issueOf(key!.id);
      issue.status = 'Done';
      const body = retargetedJiraIssueUpdated(
        DELIVERY,
        key!.id,
        issue.key,
        { to: 'Done', from: 'To Do', resolution: 'Done' },
        { user: DEVELOPER, at: T0 + ++delivered },
      );
      const res = await handleTicketWebhook(
        'jira',
        body,
        { 'x-hub-signature': signBody(body, JIRA_SECRET) },
        world.deps,
      );
      expect(JSON.parse(res.body)).toMatchObject({ outcome: 'applied' });
      expect((await world.store.events(key!.id)).map((e) => e.action)).toContain('verification.failed');
      expect(await world.sync()).toMatchObject({ pending: 0, problems: [] });
      expect(issue.status).not.toBe('Done');
      expect(adfText(issue.comments.at(-1)!.body)).toMatch(/evidence/i);
      expect(world.jira.violations).toEqual([]);
    });

    it("ignores the hub's own changes (its transitions and comments come back as deliveries too) and counts them", async () => {
      world = await aJiraWorld(contract);
      const [waiting] = await world.waitingFor('AwaitApproval');
      // The hub's Jira account is JIRA_EMAIL (hub@example.com in the stand-in's sink settings).
      const body = retargetedJiraIssueUpdated(
        DELIVERY,
        waiting!.id,
        world.issueOf(waiting!.id).key,
        { to: 'Approve remediation', from: 'To Do', category: 'indeterminate' },
        { user: { accountId: 'acc-hub', emailAddress: 'hub@example.com' }, at: T0 + ++delivered },
      );
      const own = await handleTicketWebhook(
        'jira',
        body,
        { 'x-hub-signature': signBody(body, JIRA_SECRET) },
        world.deps,
      );
      expect(JSON.parse(own.body)).toMatchObject({ outcome: 'ignored', ignored: 'own_change' });
      expect(await world.tickets.ignoredCounts('jira')).toMatchObject({ own_change: 1 });
    });
  });
}
