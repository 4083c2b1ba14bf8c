import { jiraInboundSettings } from '@connectors/sinks/jira/config';
import { interpretJiraWebhook, parseJiraWebhook } from '@connectors/sinks/jira/webhook';
import { servicenowInboundStates } from '@connectors/sinks/servicenow/config';
import { interpretServiceNowWebhook, parseServiceNowWebhook } from '@connectors/sinks/servicenow/webhook';

const USER = { accountId: '712020:a11ce', displayName: 'Alice' };

function jira(body: Record<string, unknown>, env: Record<string, string> = {}) {
  const parsed = parseJiraWebhook({
    webhookEvent: 'jira:issue_updated',
    timestamp: 1,
    user: USER,
    issue: { key: 'SEC-1', fields: { status: { name: 'To Do', statusCategory: { key: 'new' } } } },
    ...body,
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return interpretJiraWebhook(parsed.value, jiraInboundSettings(env)).signal;
}

function servicenow(body: Record<string, unknown>, env: Record<string, string> = {}) {
  const parsed = parseServiceNowWebhook({ number: 'SIT1', state: '1', sys_updated_by: 'alice.approver', ...body });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return interpretServiceNowWebhook(parsed.value, servicenowInboundStates(env)).signal;
}

describe('decisions read from Jira deliveries', () => {
  it('reads a status of a decision name (any case) as that decision, to be put back to the status it left', () => {
    expect(
      jira({ changelog: { items: [{ field: 'status', fromString: 'To Do', toString: 'approve EXCEPTION' }] } }),
    ).toEqual({
      kind: 'decision',
      decision: 'approve_exception',
      label: 'approve EXCEPTION',
      returnTo: { status: 'To Do' },
    });
  });

  it('reads the transition a post function names, with the configured names only', () => {
    const env = { JIRA_DECISIONS: 'Sign off=approve,Turn down=reject' };
    const transition = { transitionName: 'Sign off', from_status: 'Waiting', to_status: 'Signed' };
    expect(
      jira({ transition, changelog: { items: [{ field: 'status', fromString: 'Waiting', toString: 'Signed' }] } }, env),
    ).toEqual({ kind: 'decision', decision: 'approve', label: 'Sign off', returnTo: { status: 'Waiting' } });
    // The default names are not decisions once JIRA_DECISIONS names others.
    expect(
      jira({ changelog: { items: [{ field: 'status', fromString: 'To Do', toString: 'Approve exception' }] } }, env),
    ).toMatchObject({ kind: 'ignored' });
  });

  it('reads the decision field only when configured, and puts back its previous value', () => {
    const items = [{ field: 'Decision', fieldId: 'customfield_10060', fromString: 'Reject', toString: 'Approve' }];
    expect(jira({ changelog: { items } }, { JIRA_DECISION_FIELD: 'customfield_10060' })).toEqual({
      kind: 'decision',
      decision: 'approve',
      label: 'Approve',
      returnTo: { field: { id: 'customfield_10060', value: 'Reject' } },
    });
    expect(jira({ changelog: { items } })).toMatchObject({ kind: 'ignored', reason: 'no status change' });
    // Another custom field set to a decision's name decides nothing.
    const other = [{ ...items[0]!, fieldId: 'customfield_99999' }];
    expect(jira({ changelog: { items: other } }, { JIRA_DECISION_FIELD: 'customfield_10060' })).toMatchObject({
      kind: 'ignored',
    });
  });

  it('remembers where a refused Done goes back to', () => {
    expect(
      jira({
        issue: { key: 'SEC-1', fields: { status: { name: 'Done', statusCategory: { key: 'done' } } } },
        changelog: { items: [{ field: 'status', fromString: 'In Progress', toString: 'Done' }] },
      }),
    ).toMatchObject({ kind: 'done', returnTo: { status: 'In Progress' } });
  });
});

describe('decisions read from ServiceNow deliveries', () => {
  it('reads an approval record approved or rejected as the decision, to be requested again if refused', () => {
    expect(servicenow({ approval: { sys_id: 'apr1', state: 'approved', comments: 'go' } })).toEqual({
      kind: 'decision',
      decision: 'approve',
      label: 'approval approved',
      note: 'go',
      returnTo: { approval: 'apr1' },
    });
    expect(servicenow({ approval: { sys_id: 'apr1', state: 'rejected' } })).toMatchObject({ decision: 'reject' });
    expect(servicenow({ approval: { sys_id: 'apr1', state: 'requested' } })).toEqual({
      kind: 'ignored',
      reason: 'approval requested decides nothing',
    });
  });

  it('reads a configured decision state, to be put back to the previous state if refused', () => {
    const env = { SERVICENOW_DECISION_STATES: '-6=approve_exception,-7=reject' };
    expect(servicenow({ state: '-6', previous_state: '2', close_notes: 'ok until Q2' }, env)).toEqual({
      kind: 'decision',
      decision: 'approve_exception',
      label: 'state -6',
      note: 'ok until Q2',
      returnTo: { status: '2' },
    });
    // Without the setting, the state is just a state.
    expect(servicenow({ state: '-6', previous_state: '2' })).toMatchObject({ kind: 'ignored' });
  });
});
