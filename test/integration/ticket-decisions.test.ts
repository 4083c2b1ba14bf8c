import { handleTicketWebhook } from '@connectors/api/webhooks';
import { readServiceNowConfig } from '@connectors/sinks/servicenow/config';
import { servicenowHttp } from '@connectors/sinks/servicenow/client';
import { ServiceNowSink } from '@connectors/sinks/servicenow/servicenow-sink';
import { signBody } from '@connectors/sinks/webhook-signature';
import { decideApproval, reportFixed, requestException } from '@core/lifecycle/decisions';
import { startFakeServiceNow } from '@test/support/fake-servicenow';
import { JiraContract } from '@test/support/jira-contract';
import { describeJiraDecisions } from '@test/support/jira-decisions-suite';
import { POLICY, SN_SECRET, T0, aWebhookWorld } from '@test/support/ticket-webhooks';
import { FAST_RETRY, syncDeps, syncTickets } from '@test/support/tickets';

describeJiraDecisions('decisions taken in Jira (the Jira stand-in on 127.0.0.1)', () => JiraContract.ownChecks());

describe('decisions taken in ServiceNow (the ServiceNow stand-in on 127.0.0.1)', () => {
  const USERS = { 'alice.approver': 'usr-alice', 'dev.team': 'usr-dev' };
  async function aServiceNowWorld(env: Record<string, string> = {}) {
    const sn = await startFakeServiceNow({ users: USERS });
    const settings = {
      SERVICENOW_URL: sn.base,
      SERVICENOW_USER: 'closeloop',
      SERVICENOW_PASSWORD: 'sn-password',
      SERVICENOW_TABLE: 'sn_si_task',
      ...env,
    };
    const world = await aWebhookWorld(null, settings, ['gitleaks-git.json']);
    const config = readServiceNowConfig(settings);
    const sync = () =>
      syncTickets({
        ...syncDeps({
          client: world.client,
          tableName: world.tableName,
          store: world.store,
          clock: world.clock,
          policy: POLICY,
        }),
        sinks: { servicenow: new ServiceNowSink(config, servicenowHttp(config, 2_000), FAST_RETRY) },
        configured: { servicenow: true },
      });
    expect(await sync()).toMatchObject({ pending: 0, problems: [] });
    const taskOf = (id: string) => sn.records.find((r) => r.fields.correlation_id === id)!;
    const deliver = async (body: Record<string, unknown>) => {
      const raw = JSON.stringify(body);
      return JSON.parse(
        (
          await handleTicketWebhook(
            'servicenow',
            raw,
            { 'x-closeloop-signature': signBody(raw, SN_SECRET) },
            world.deps,
          )
        ).body,
      ) as { outcome: string; message: string };
    };
    const waitingFor = async (waitingAt: string) =>
      (await world.store.list()).filter((f) => f.lifecycle?.waitingAt === waitingAt);
    return { ...world, sn, sync, taskOf, deliver, waitingFor };
  }

  it('asks the bound approvers through approval records on the task, and takes their decision from the approval', async () => {
    const world = await aServiceNowWorld({ SERVICENOW_APPROVAL_RECORDS: 'true' });
    try {
      const [waiting] = await world.waitingFor('AwaitApproval');
      const task = world.taskOf(waiting!.id);
      expect(task.fields.description).toContain('Someone holding the "approver" role decides.');
      expect(task.fields.description).toContain(
        'Decide in ServiceNow: approve or reject the approval record closeloop put on this task.',
      );
      const [approval] = world.sn.approvals.filter((a) => a.sysapproval === task.sys_id);
      expect(approval).toMatchObject({ approver: 'usr-alice', state: 'requested' });
      // The approver decides it in ServiceNow; a business rule on sysapproval_approver posts it.
      approval!.state = 'approved';
      const res = await world.deliver({
        number: task.number,
        state: '1',
        sys_updated_by: 'alice.approver',
        approval: { sys_id: approval!.sys_id, state: 'approved', comments: 'rotate it tonight' },
      });
      expect(res).toMatchObject({ outcome: 'applied' });
      expect((await world.store.events(waiting!.id)).find((e) => e.action === 'approval.granted')).toMatchObject({
        actor: 'alice',
        actorIdentity: 'servicenow:alice.approver',
        reason: 'rotate it tonight',
      });
    } finally {
      await world.sn.close();
    }
  });

  it('withdraws the approval records still requested once the decision is taken elsewhere (in closeloop here)', async () => {
    const world = await aServiceNowWorld({ SERVICENOW_APPROVAL_RECORDS: 'true' });
    try {
      const [waiting] = await world.waitingFor('AwaitApproval');
      const task = world.taskOf(waiting!.id);
      const approval = world.sn.approvals.find((a) => a.sysapproval === task.sys_id)!;
      expect(approval.state).toBe('requested');
      await decideApproval(world.deps, { id: waiting!.id, by: 'alice', decision: 'rejected', reason: 'not tonight' });
      expect(await world.sync()).toMatchObject({ pending: 0, problems: [] });
      expect(approval.state).toBe('not_required');
      expect(world.sn.approvals.filter((a) => a.sysapproval === task.sys_id && a.state === 'requested')).toEqual([]);
    } finally {
      await world.sn.close();
    }
  });

  it('puts a task closed without the evidence its finding needs back to open work, and leaves one being worked on alone', async () => {
    const world = await aServiceNowWorld();
    try {
      // An AWS key closes on a rotation record, a deactivated key or a revocation: a resolution note is not enough.
      const key = (await world.waitingFor('AwaitOwnerFix')).find((f) => f.nhiType === 'cloud_access_key')!;
      const task = world.taskOf(key.id);
      const failures = async () =>
        (await world.store.events(key.id)).filter((e) => e.action === 'verification.failed').length;
      // In progress in ServiceNow when the owner reports it fixed from the CLI: the task keeps its state.
      task.fields.state = '2';
      await reportFixed(world.deps, { id: key.id, by: 'dev-team@example.com', note: 'done' });
      expect(await failures()).toBe(1);
      expect(await world.sync()).toMatchObject({ pending: 0, problems: [] });
      expect(task.fields.state).toBe('2');
      expect(task.workNotes.at(-1)).toMatch(/evidence/i);
      // The owner's developer closes the task in ServiceNow: it goes back to open work.
      task.fields.state = '3';
      expect(
        await world.deliver({
          number: task.number,
          state: '3',
          previous_state: '2',
          close_notes: 'rotated it',
          sys_updated_by: 'dev.team',
        }),
      ).toMatchObject({ outcome: 'applied' });
      expect(await failures()).toBe(2);
      expect(await world.sync()).toMatchObject({ pending: 0, problems: [] });
      expect(task.fields.state).toBe('1');
      expect(task.workNotes.at(-1)).toMatch(/evidence/i);
    } finally {
      await world.sn.close();
    }
  });

  it("refuses the owner approving their own exception's approval record: a work note says why and the approval is requested again", async () => {
    const world = await aServiceNowWorld({ SERVICENOW_APPROVAL_RECORDS: 'true' });
    try {
      const [finding] = await world.waitingFor('AwaitOwnerFix');
      await requestException(world.deps, {
        id: finding!.id,
        by: 'dev-team@example.com',
        until: new Date(T0 + 30 * 86_400_000),
        reason: 'vendor migration',
      });
      await world.sync();
      const task = world.taskOf(finding!.id);
      const approval = world.sn.approvals.find((a) => a.sysapproval === task.sys_id)!;
      expect(approval).toMatchObject({ approver: 'usr-alice', state: 'requested' });
      approval.state = 'approved';
      const res = await world.deliver({
        number: task.number,
        state: '1',
        sys_updated_by: 'dev.team',
        approval: { sys_id: approval.sys_id, state: 'approved' },
      });
      expect(res).toEqual({
        outcome: 'refused',
        message: 'separation of duties: dev-team@example.com requested this exception and cannot approve it',
      });
      expect(await world.sync()).toMatchObject({ pending: 0, problems: [] });
      expect(task.workNotes.at(-1)).toContain(
        'Refused: separation of duties: dev-team@example.com requested this exception and cannot approve it.',
      );
      expect(approval.state).toBe('requested');
      expect((await world.store.get(finding!.id))!.exception?.approvedBy).toBeUndefined();
    } finally {
      await world.sn.close();
    }
  });

  it('takes a decision from a configured task state (SERVICENOW_DECISION_STATES), and puts a refused one back to the previous state', async () => {
    const world = await aServiceNowWorld({ SERVICENOW_DECISION_STATES: '-6=approve,-7=reject' });
    try {
      const [waiting] = await world.waitingFor('AwaitApproval');
      const task = world.taskOf(waiting!.id);
      const refused = await world.deliver({
        number: task.number,
        state: '-6',
        previous_state: '1',
        sys_updated_by: 'dev.team',
      });
      expect(refused).toMatchObject({ outcome: 'refused' });
      await world.sync();
      expect(task.fields.state).toBe('1');
      expect(
        await world.deliver({
          number: task.number,
          state: '-6',
          previous_state: '1',
          sys_updated_by: 'alice.approver',
        }),
      ).toMatchObject({ outcome: 'applied' });
      expect((await world.store.events(waiting!.id)).map((e) => e.action)).toContain('approval.granted');
      // The hub's own user changing the task is the hub's own doing.
      expect(
        await world.deliver({ number: task.number, state: '-7', previous_state: '1', sys_updated_by: 'closeloop' }),
      ).toMatchObject({ outcome: 'ignored' });
    } finally {
      await world.sn.close();
    }
  });
});
