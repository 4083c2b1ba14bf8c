import { signBody } from '@connectors/sinks/webhook-signature';
import { interpretJiraWebhook, parseJiraWebhook } from '@connectors/sinks/jira/webhook';
import { jiraInboundSettings } from '@connectors/sinks/jira/config';
import { handleTicketWebhook } from '@connectors/api/webhooks';
import { readFixtureJson } from '@test/support/shared-fixtures';
import { JIRA_DEVELOPER, JIRA_SECRET, aWebhookWorld, retargetedJiraIssueUpdated } from '@test/support/ticket-webhooks';

// Jira Cloud webhook deliveries recorded from real sites (../shared/fixtures/jira, see SOURCES.md).
const resolved = readFixtureJson('jira', 'webhook-issue-updated.json');
const startedWorking = readFixtureJson('jira', 'webhook-issue-updated-started-working.json');

describe('real Jira Cloud jira:issue_updated deliveries', () => {
  it('parse as closeloop reads them: Done with resolution Done is the owner reporting done', () => {
    const parsed = parseJiraWebhook(resolved);
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    expect(
      interpretJiraWebhook(parsed.value, jiraInboundSettings({ JIRA_WONT_DO_RESOLUTIONS: "Won't Do" })).signal,
    ).toMatchObject({
      kind: 'done',
      note: expect.stringMatching(/^Jira [A-Z][A-Z0-9]*-\d+ moved to Done \(resolution Done\) by /),
    });
  });

  it('parse as closeloop reads them: To Do → In Progress changes nothing', () => {
    const parsed = parseJiraWebhook(startedWorking);
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    expect(
      interpretJiraWebhook(parsed.value, jiraInboundSettings({ JIRA_WONT_DO_RESOLUTIONS: "Won't Do" })).signal,
    ).toEqual({
      kind: 'ignored',
      reason: 'status To Do → In Progress changes nothing',
    });
  });

  it('close the loop when pointed at one of our issues: the resolution is evidence, and the finding resolves', async () => {
    const { deps, finding, store } = await aWebhookWorld();
    // Moved to Done by the owning team's developer (the delivery's own user is no principal of the test policy).
    const body = retargetedJiraIssueUpdated(
      resolved,
      finding.id,
      'SEC-1',
      { to: 'Done', resolution: 'Done' },
      { user: { accountId: JIRA_DEVELOPER } },
    );
    const res = await handleTicketWebhook('jira', body, { 'X-Hub-Signature': signBody(body, JIRA_SECRET) }, deps);
    expect(JSON.parse(res.body)).toMatchObject({ outcome: 'applied' });
    expect((await store.get(finding.id))!).toMatchObject({
      status: 'resolved',
      evidence: [expect.objectContaining({ kind: 'ticket_resolution_note' })],
    });
  });
});
