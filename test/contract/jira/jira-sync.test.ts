import axios from 'axios';
import { FakeJira } from '@test/support/fake-jira';
import { describeJiraSync } from '@test/support/jira-sync-suite';
import { atlassianJiraContract } from './atlassian-spec';

// The same scenarios as test/integration/jira-sync.test.ts, every request and every answer of the
// stand-in checked against Atlassian's published REST v3 spec.
describeJiraSync("Jira sync, every request checked against Atlassian's REST v3 OpenAPI spec", atlassianJiraContract);

describe("the spec check (Atlassian's REST v3 OpenAPI spec)", () => {
  it('is live: a body or a query parameter the spec does not define is a violation', async () => {
    const jira = await new FakeJira({ contract: atlassianJiraContract() }).start();
    try {
      const auth = { username: 'hub@example.com', password: 'jira-token' };
      await axios.post(`${jira.url}/rest/api/3/search/jql`, { jql: 42, maxResults: 'ten' }, { auth });
      await axios.get(`${jira.url}/rest/api/3/user/search?query=a@b.c&emailAddress=a@b.c`, { auth });
      expect(jira.violations).toEqual([
        'POST /rest/api/3/search/jql: body/jql must be string',
        'POST /rest/api/3/search/jql: body/maxResults must be integer',
        'GET /rest/api/3/user/search: query parameter "emailAddress" is not in the spec',
      ]);
    } finally {
      await jira.stop();
    }
  });
});
