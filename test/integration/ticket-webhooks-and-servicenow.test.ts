import { readFileSync } from 'node:fs';
import { signBody } from '@connectors/sinks/webhook-signature';
import { readServiceNowConfig } from '@connectors/sinks/servicenow/config';
import { servicenowHttp } from '@connectors/sinks/servicenow/client';
import { ServiceNowSink } from '@connectors/sinks/servicenow/servicenow-sink';
import { ServiceNowCmdb } from '@connectors/sinks/servicenow/cmdb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { handleTicketWebhook } from '@connectors/api/webhooks';
import { lambdaServices } from '@connectors/wiring/lambda';
import { lambdaCmdbDirectory } from '@connectors/wiring/ticketing';
import { FakeJira } from '@test/support/fake-jira';
import { ownFixturePath } from '@test/support/fixtures';
import { startFakeServiceNow } from '@test/support/fake-servicenow';
import { FAST_RETRY, aJiraSink, syncDeps, syncTickets } from '@test/support/tickets';
import {
  JIRA_ALICE,
  JIRA_DEVELOPER,
  JIRA_SECRET,
  POLICY,
  POLICY_JSON,
  SN_SECRET,
  T0,
  aWebhookWorld,
  retargetedJiraIssueUpdated,
} from '@test/support/ticket-webhooks';
import { decideException } from '@core/lifecycle/decisions';
import { parsePolicy } from '@core/policy/policy';
import { RefusedError } from '@core/shared/errors';

const OWN_DELIVERY = JSON.parse(readFileSync(ownFixturePath('jira', 'webhook-issue-updated.json'), 'utf8')) as unknown;
const setup = aWebhookWorld;
const jiraIssueUpdated = (
  ...args: [
    string,
    string,
    Parameters<typeof retargetedJiraIssueUpdated>[3],
    Parameters<typeof retargetedJiraIssueUpdated>[4]?,
  ]
) => retargetedJiraIssueUpdated(OWN_DELIVERY, ...args);
const signed = (body: string, extra: Record<string, string> = {}) => ({
  'x-hub-signature': signBody(body, JIRA_SECRET),
  ...extra,
});

describe('POST /webhooks/jira', () => {
  it('refuses a missing or wrong signature with 401 and changes nothing', async () => {
    const { deps, finding, store } = await setup();
    const body = jiraIssueUpdated(finding.id, 'SEC-1', { to: 'Done', resolution: 'Done' });
    const before = (await store.events(finding.id)).length;
    expect((await handleTicketWebhook('jira', body, {}, deps)).statusCode).toBe(401);
    expect(
      (await handleTicketWebhook('jira', body, { 'X-Hub-Signature': signBody(body, 'not-the-secret') }, deps))
        .statusCode,
    ).toBe(401);
    expect(
      (await handleTicketWebhook('jira', `${body} `, { 'X-Hub-Signature': signBody(body, JIRA_SECRET) }, deps))
        .statusCode,
    ).toBe(401);
    expect((await store.events(finding.id)).length).toBe(before);
  });

  it('verifies the resolution as evidence when the issue moves to Done, and ignores a replay', async () => {
    const { deps, finding, store } = await setup();
    const body = jiraIssueUpdated(finding.id, 'SEC-1', { to: 'Done', resolution: 'Done' });
    const headers = { 'X-Hub-Signature': signBody(body, JIRA_SECRET), 'X-Atlassian-Webhook-Identifier': 'delivery-1' };
    const first = await handleTicketWebhook('jira', body, headers, deps);
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ outcome: 'applied' });
    const after = (await store.get(finding.id))!;
    expect(after.evidence).toContainEqual(
      expect.objectContaining({ kind: 'ticket_resolution_note', recordedBy: 'dev-team@example.com' }),
    );
    expect(after.status).toBe('resolved'); // the policy accepts a resolution note for private keys
    const count = (await store.events(finding.id)).length;
    const replay = await handleTicketWebhook('jira', body, headers, deps);
    expect(JSON.parse(replay.body)).toMatchObject({ outcome: 'duplicate' });
    expect((await store.events(finding.id)).length).toBe(count);
  });

  it("turns a Won't Do resolution into an exception request, not an acceptance", async () => {
    const { deps, finding, store } = await setup();
    const body = jiraIssueUpdated(finding.id, 'SEC-1', { to: 'Done', resolution: "Won't Do" });
    await handleTicketWebhook('jira', body, { 'x-hub-signature': signBody(body, JIRA_SECRET) }, deps);
    const after = (await store.get(finding.id))!;
    expect(after.status).not.toBe('risk_accepted');
    expect(after.lifecycle?.waitingAt).toBe('AwaitExceptionApproval');
    expect(after.exception).toMatchObject({
      requestedBy: 'dev-team@example.com',
      reason: expect.stringContaining(`Jira SEC-1 resolved "Won't Do"`),
    });
    expect(after.exception?.approvedBy).toBeUndefined();
  });

  it('reopens a resolved finding when its issue leaves Done', async () => {
    const { deps, finding, store } = await setup();
    const done = jiraIssueUpdated(finding.id, 'SEC-1', { to: 'Done', resolution: 'Done' });
    await handleTicketWebhook('jira', done, { 'x-hub-signature': signBody(done, JIRA_SECRET) }, deps);
    const reopened = jiraIssueUpdated(finding.id, 'SEC-1', { to: 'To Do', from: 'Done' });
    const res = await handleTicketWebhook(
      'jira',
      reopened,
      { 'x-hub-signature': signBody(reopened, JIRA_SECRET) },
      deps,
    );
    expect(JSON.parse(res.body)).toMatchObject({ outcome: 'applied' });
    expect((await store.get(finding.id))!).toMatchObject({ status: 'reopened', generation: 2 });
  });

  it('rejects a signed body that is not a Jira event, naming the field', async () => {
    const { deps } = await setup();
    const body = JSON.stringify({ webhookEvent: 'jira:issue_updated', issue: { fields: {} } });
    const res = await handleTicketWebhook('jira', body, { 'x-hub-signature': signBody(body, JIRA_SECRET) }, deps);
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).message).toContain('issue.key');
  });

  it('a Jira issue created by the sync closes the loop end to end through the webhook', async () => {
    const jira = await new FakeJira({ users: [{ accountId: 'acc-1', emailAddress: 'dev-team@example.com' }] }).start();
    try {
      const { deps, finding, store, client, tableName, clock } = await setup(null);
      await syncTickets(syncDeps({ client, tableName, store, clock, policy: POLICY, jira: aJiraSink(jira) }));
      const key = (await store.get(finding.id))!.ticket!.key;
      const body = jiraIssueUpdated(finding.id, key, { to: 'Done', resolution: 'Done' });
      // Without the label, the key alias recorded at creation finds the finding.
      const unlabeled = JSON.stringify({
        ...JSON.parse(body),
        issue: { ...JSON.parse(body).issue, fields: { ...JSON.parse(body).issue.fields, labels: [] } },
      });
      const res = await handleTicketWebhook(
        'jira',
        unlabeled,
        { 'x-hub-signature': signBody(unlabeled, JIRA_SECRET) },
        deps,
      );
      expect(JSON.parse(res.body)).toMatchObject({ outcome: 'applied' });
      expect((await store.get(finding.id))!.status).toBe('resolved');
      await syncTickets(syncDeps({ client, tableName, store, clock, policy: POLICY, jira: aJiraSink(jira) }));
      expect(jira.issues.get(key)!.status).toBe('Done');
      expect(jira.violations).toEqual([]);
    } finally {
      await jira.stop();
    }
  });
});

describe('inbound webhooks are bound to their ticket and their actor, and never replayed (issue 20)', () => {
  it("ignores an issue that is not the finding's recorded ticket, whatever its labels say, and counts it", async () => {
    const { deps, finding, store, tickets } = await setup();
    const before = await store.get(finding.id);
    // An unrelated issue someone labelled like ours, moved to Done.
    const body = jiraIssueUpdated(finding.id, 'SANDBOX-7', { to: 'Done', resolution: 'Done' });
    const res = await handleTicketWebhook('jira', body, signed(body), deps);
    expect(JSON.parse(res.body)).toMatchObject({ outcome: 'ignored', ignored: 'unknown_ticket' });
    const after = (await store.get(finding.id))!;
    expect(after).toMatchObject({ status: before!.status, evidence: [] });
    expect(after.lifecycle?.waitingAt).toBe('AwaitOwnerFix');
    // ServiceNow: a correlation_id in the body is content, not the link.
    const sn = JSON.stringify({
      number: 'SIT0009999',
      correlation_id: finding.id,
      state: '3',
      previous_state: '2',
      close_notes: 'done',
      sys_updated_by: 'dev.team',
    });
    const snRes = await handleTicketWebhook(
      'servicenow',
      sn,
      { 'x-closeloop-signature': signBody(sn, SN_SECRET) },
      deps,
    );
    expect(JSON.parse(snRes.body)).toMatchObject({ outcome: 'ignored', ignored: 'unknown_ticket' });
    expect((await store.get(finding.id))!.evidence).toEqual([]);
    expect(await tickets.ignoredCounts('jira')).toEqual({ unknown_ticket: 1, total: 1 });
    expect(await tickets.ignoredCounts('servicenow')).toEqual({ unknown_ticket: 1, total: 1 });
  });

  it("records the acting user: an approver's Won't Do is not the owner's request, so nobody requests and approves alone", async () => {
    const { deps, finding, store } = await setup();
    const body = jiraIssueUpdated(
      finding.id,
      'SEC-1',
      { to: 'Done', resolution: "Won't Do" },
      { user: { accountId: JIRA_ALICE, displayName: 'Alice Approver' } },
    );
    const res = await handleTicketWebhook('jira', body, signed(body), deps);
    expect(JSON.parse(res.body)).toMatchObject({
      outcome: 'refused',
      message: `only the owner (dev-team@example.com) can request an exception for ${finding.id}`,
    });
    const after = (await store.get(finding.id))!;
    expect(after.exception).toBeUndefined();
    expect(after.lifecycle?.waitingAt).toBe('AwaitOwnerFix');
    await expect(decideException(deps, { id: finding.id, by: 'alice', decision: 'approved' })).rejects.toThrow(
      RefusedError,
    );
    expect((await store.get(finding.id))!.status).not.toBe('risk_accepted');
  });

  it("attributes Done and reopen to whoever acted: the owner's developer is the owner, a stranger is jira:<accountId>", async () => {
    const { deps, finding, store } = await setup();
    const stranger = { accountId: '712020:57a2a000-0000-4000-8000-00000000beef', displayName: 'Sam Stranger' };
    const done = jiraIssueUpdated(finding.id, 'SEC-1', { to: 'Done', resolution: 'Done' }, { user: stranger });
    expect(JSON.parse((await handleTicketWebhook('jira', done, signed(done), deps)).body)).toMatchObject({
      outcome: 'refused',
      message: `only the owner (dev-team@example.com) can report ${finding.id} fixed`,
    });
    expect((await store.get(finding.id))!.evidence).toEqual([]);
    const byOwner = jiraIssueUpdated(finding.id, 'SEC-1', { to: 'Done', resolution: 'Done' }, { at: T0 + 1 });
    await handleTicketWebhook('jira', byOwner, signed(byOwner), deps);
    expect((await store.get(finding.id))!.status).toBe('resolved');
    const reopen = jiraIssueUpdated(finding.id, 'SEC-1', { to: 'To Do', from: 'Done' }, { user: stranger, at: T0 + 2 });
    await handleTicketWebhook('jira', reopen, signed(reopen), deps);
    const events = await store.events(finding.id);
    expect(events.find((e) => e.action === 'evidence.recorded')).toMatchObject({
      actor: 'dev-team@example.com',
      actorIdentity: `jira:${JIRA_DEVELOPER}`,
    });
    expect(events.find((e) => e.action === 'finding.reopened')).toMatchObject({
      actor: `jira:${stranger.accountId}`,
      actorIdentity: `jira:${stranger.accountId}`,
    });
  });

  it('never applies a signed delivery twice: not with a new identifier, without one, or on the other route', async () => {
    const { deps, finding, store, runner } = await setup();
    const done = jiraIssueUpdated(finding.id, 'SEC-1', { to: 'Done', resolution: 'Done' });
    await handleTicketWebhook('jira', done, signed(done, { 'x-atlassian-webhook-identifier': 'id-1' }), deps);
    const reopen = jiraIssueUpdated(finding.id, 'SEC-1', { to: 'To Do', from: 'Done' }, { at: T0 + 1 });
    const first = await handleTicketWebhook(
      'jira',
      reopen,
      signed(reopen, { 'x-atlassian-webhook-identifier': 'id-2' }),
      deps,
    );
    expect(JSON.parse(first.body)).toMatchObject({ outcome: 'applied' });
    // Generation 2 runs to its owner-fix wait and is fixed again.
    await runner.start((await store.get(finding.id))!);
    const doneAgain = jiraIssueUpdated(finding.id, 'SEC-1', { to: 'Done', resolution: 'Done' }, { at: T0 + 2 });
    await handleTicketWebhook('jira', doneAgain, signed(doneAgain), deps);
    expect((await store.get(finding.id))!).toMatchObject({ status: 'resolved', generation: 2 });
    // The captured "moved out of Done", sent again three ways.
    for (const headers of [
      signed(reopen, { 'x-atlassian-webhook-identifier': 'id-fresh' }),
      signed(reopen),
      signed(reopen, { 'x-atlassian-webhook-identifier': 'id-2' }),
    ]) {
      const replay = await handleTicketWebhook('jira', reopen, headers, deps);
      expect(JSON.parse(replay.body)).toMatchObject({ outcome: 'duplicate' });
    }
    expect((await store.get(finding.id))!).toMatchObject({ status: 'resolved', generation: 2 });
  });

  it('ignores the Atlassian identifier on the ServiceNow route: a replay with one added is still the same body', async () => {
    const { deps, finding, store } = await setup({ system: 'servicenow', key: 'SIT0000001' });
    const body = JSON.stringify({
      number: 'SIT0000001',
      state: '3',
      previous_state: '2',
      close_notes: 'rotated',
      sys_updated_by: 'dev.team',
    });
    const headers = { 'x-closeloop-signature': signBody(body, SN_SECRET) };
    expect(JSON.parse((await handleTicketWebhook('servicenow', body, headers, deps)).body)).toMatchObject({
      outcome: 'applied',
    });
    const replay = await handleTicketWebhook(
      'servicenow',
      body,
      { ...headers, 'x-atlassian-webhook-identifier': 'looks-new' },
      deps,
    );
    expect(JSON.parse(replay.body)).toMatchObject({ outcome: 'duplicate' });
    expect((await store.events(finding.id)).filter((e) => e.action === 'evidence.recorded')).toHaveLength(1);
  });

  it("refuses a Jira delivery signed longer ago than the policy's window (default 1 h), and accepts it within a longer one", async () => {
    const { deps, finding, store, tickets } = await setup();
    const old = jiraIssueUpdated(finding.id, 'SEC-1', { to: 'Done', resolution: 'Done' }, { at: T0 - 61 * 60_000 });
    const res = await handleTicketWebhook('jira', old, signed(old), deps);
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).message).toBe(
      `Jira webhook: the delivery was signed at ${new Date(T0 - 61 * 60_000).toISOString()}, more than 60 minutes ago: a replay is refused`,
    );
    expect((await store.get(finding.id))!.evidence).toEqual([]);
    expect(await tickets.ignoredCounts('jira')).toMatchObject({ stale: 1 });
    const patient = { ...deps, policy: parsePolicy({ ...POLICY_JSON, webhookMaxAgeMinutes: 180 }, 'p') };
    expect(JSON.parse((await handleTicketWebhook('jira', old, signed(old), patient)).body)).toMatchObject({
      outcome: 'applied',
    });
  });
});

describe('ServiceNow tasks and CMDB (a ServiceNow stand-in on 127.0.0.1)', () => {
  const env = (url: string) => ({
    SERVICENOW_URL: url,
    SERVICENOW_USER: 'closeloop',
    SERVICENOW_PASSWORD: 'sn-password',
    SERVICENOW_TABLE: 'sn_si_task',
  });

  it('creates one task per finding with correlation_id, finds it again after a lost answer, upserts the NHI as a CI related to its application', async () => {
    const sn = await startFakeServiceNow({ dropAfterCreate: 1 });
    try {
      const { store, client, tableName, clock, finding } = await setup(null);
      const config = readServiceNowConfig(env(sn.base));
      const http = servicenowHttp(config, 2_000);
      const deps = {
        ...syncDeps({ client, tableName, store, clock, policy: POLICY }),
        sinks: { servicenow: new ServiceNowSink(config, http, FAST_RETRY) },
        configured: { servicenow: true },
        cmdb: new ServiceNowCmdb(config, http, FAST_RETRY),
      };
      let result = await syncTickets(deps);
      for (let i = 0; i < 3 && result.pending > 0; i++) result = await syncTickets(deps);
      expect(result.pending).toBe(0);
      const open = await store.list();
      for (const f of open) expect(sn.records.filter((r) => r.fields.correlation_id === f.id)).toHaveLength(1);
      const task = sn.records.find((r) => r.fields.correlation_id === finding.id)!;
      expect(task.fields).toMatchObject({
        correlation_display: 'closeloop',
        urgency: expect.stringMatching(/^[123]$/),
      });
      expect(sn.cis.get(`cmdb_ci_service_account:${finding.id}`)?.values).toMatchObject({
        correlation_id: finding.id,
        owned_by: 'dev-team@example.com',
      });
      expect(sn.cis.get(`cmdb_ci_appl:${finding.asset.id}`)).toBeDefined();
      expect(sn.relations).toContainEqual({ parent: 0, child: 1, type: 'Uses::Used by' });
    } finally {
      await sn.close();
    }
  });

  it('authenticates with an OAuth bearer token (SERVICENOW_TOKEN) instead of Basic auth', async () => {
    const sn = await startFakeServiceNow({ bearerToken: 'sn-oauth-token-1' });
    try {
      const { store, client, tableName, clock } = await setup(null);
      const config = readServiceNowConfig({
        SERVICENOW_URL: sn.base,
        SERVICENOW_TOKEN: 'sn-oauth-token-1',
        SERVICENOW_TABLE: 'sn_si_task',
      });
      const deps = {
        ...syncDeps({ client, tableName, store, clock, policy: POLICY }),
        sinks: { servicenow: new ServiceNowSink(config, servicenowHttp(config, 2_000), FAST_RETRY) },
        configured: { servicenow: true },
      };
      const result = await syncTickets(deps);
      expect(result).toMatchObject({ pending: 0, problems: [] });
      expect(sn.records.length).toBe((await store.list()).length);
      // Neither set: the error names both ways to authenticate.
      expect(() => readServiceNowConfig({ SERVICENOW_URL: sn.base })).toThrow(
        'ServiceNow configuration: set SERVICENOW_USER and SERVICENOW_PASSWORD (Basic auth) or SERVICENOW_TOKEN (OAuth)',
      );
    } finally {
      await sn.close();
    }
  });

  it('names the application owner from the CMDB as the owner in triage', async () => {
    const sn = await startFakeServiceNow({ appOwners: { 'github.com/acme/payments-api': 'owner@example.com' } });
    try {
      const cmdb = new ServiceNowCmdb(
        readServiceNowConfig(env(sn.base)),
        servicenowHttp(readServiceNowConfig(env(sn.base))),
        FAST_RETRY,
      );
      expect(await cmdb.ownerOf({ type: 'repository', id: 'github.com/acme/payments-api' })).toBe('owner@example.com');
      expect(await cmdb.ownerOf({ type: 'repository', id: 'github.com/acme/unknown' })).toBeUndefined();
    } finally {
      await sn.close();
    }
  });

  it('on AWS the lifecycle step asks the CMDB too: credentials from the ticketing secret (read once), owner from the application CI', async () => {
    const sn = await startFakeServiceNow({ appOwners: { 'github.com/acme/payments-api': 'owner@example.com' } });
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ servicenowPassword: 'sn-password' }) });
    try {
      const lambdaEnv = {
        ...env(sn.base),
        SERVICENOW_PASSWORD: '',
        CLOSELOOP_TABLE: 'closeloop',
        CLOSELOOP_TICKETING_SECRET: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ticketing-AbCdEf',
        AWS_REGION: 'eu-west-1',
      };
      // No ServiceNow: no CMDB step.
      expect(
        lambdaCmdbDirectory(lambdaServices({ CLOSELOOP_TABLE: 'closeloop', CLOSELOOP_TICKETING_SECRET: 'x' })),
      ).toBeUndefined();
      const directory = lambdaCmdbDirectory(lambdaServices(lambdaEnv))!;
      expect(await directory.ownerOf({ type: 'repository', id: 'github.com/acme/payments-api' })).toBe(
        'owner@example.com',
      );
      expect(await directory.ownerOf({ type: 'repository', id: 'github.com/acme/unknown' })).toBeUndefined();
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    } finally {
      secrets.restore();
      await sn.close();
    }
  });

  it('POST /webhooks/servicenow: a closed task is the owner reporting done; a wrong signature is 401', async () => {
    const { deps, finding, store } = await setup({ system: 'servicenow', key: 'SIT0000001' });
    // Someone pastes the old key into the close notes: it must not reach the table or the ticket.
    const body = JSON.stringify({
      number: 'SIT0000001',
      correlation_id: finding.id,
      state: '3',
      previous_state: '2',
      close_notes: 'revoked AKIAIOSFODNN7EXAMPLE',
      sys_updated_by: 'dev.team',
    });
    expect(
      (await handleTicketWebhook('servicenow', body, { 'x-closeloop-signature': signBody(body, 'wrong') }, deps))
        .statusCode,
    ).toBe(401);
    const res = await handleTicketWebhook(
      'servicenow',
      body,
      { 'x-closeloop-signature': signBody(body, SN_SECRET) },
      deps,
    );
    expect(JSON.parse(res.body)).toMatchObject({ outcome: 'applied' });
    expect((await store.get(finding.id))!.status).toBe('resolved');
    const stored = JSON.stringify([await store.get(finding.id), await store.events(finding.id)]);
    expect(stored).toContain('revoked [REDACTED]');
    expect(stored).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });
});
