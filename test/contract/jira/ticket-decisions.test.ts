import { describeJiraDecisions } from '@test/support/jira-decisions-suite';
import { atlassianJiraContract } from './atlassian-spec';

// The same scenarios as test/integration/ticket-decisions.test.ts (Jira): every request the sink makes
// to take, refuse and put back a decision, and every answer of the stand-in, checked against
// Atlassian's published REST v3 spec.
describeJiraDecisions(
  "decisions taken in Jira, every request checked against Atlassian's REST v3 OpenAPI spec",
  atlassianJiraContract,
);
