import axios from 'axios';
import { FakeJira } from '@test/support/fake-jira';
import { JiraContract } from '@test/support/jira-contract';
import { describeJiraSync } from '@test/support/jira-sync-suite';

// The contract suite runs the same scenarios with every request checked against Atlassian's REST spec.
describeJiraSync('Jira sync (a Jira stand-in on 127.0.0.1; ADF and issue fields checked)', () =>
  JiraContract.ownChecks(),
);

describe("the Jira stand-in's own checks", () => {
  it('are live: an issue Jira would refuse (bad ADF, a two-line summary) is a violation and a per-item error', async () => {
    const jira = await new FakeJira().start();
    try {
      const fields = {
        project: { key: 'SEC' },
        issuetype: { name: 'Task' },
        summary: 'two\nlines',
        description: { type: 'doc', version: 1, content: [{ type: 'no-such-node' }] },
      };
      const res = await axios.post(
        `${jira.url}/rest/api/3/issue/bulk`,
        { issueUpdates: [{ fields }] },
        { auth: { username: 'hub@example.com', password: 'jira-token' }, validateStatus: () => true },
      );
      expect(res.status).toBe(400);
      expect(jira.violations).toEqual([
        'issueUpdates[0]: fields.summary must be one line of 1-255 characters',
        expect.stringMatching(/^issueUpdates\[0\] fields\.description: not valid ADF/),
      ]);
      expect(JiraContract.ownChecks().checksTheSpec).toBe(false);
    } finally {
      await jira.stop();
    }
  });
});
