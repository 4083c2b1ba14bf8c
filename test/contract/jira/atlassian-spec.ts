import { readFileSync } from 'node:fs';
import { fixturePath } from '@test/support/shared-fixtures';
import { JiraContract, type OpenApiSpec } from '@test/support/jira-contract';

let spec: OpenApiSpec | undefined;

/** Atlassian's Jira Cloud platform REST v3 OpenAPI spec (../shared/fixtures/jira, see SOURCES.md), read once. */
export function atlassianJiraContract(): JiraContract {
  spec ??= JSON.parse(readFileSync(fixturePath('jira', 'jira-platform-v3.openapi.json'), 'utf8')) as OpenApiSpec;
  return JiraContract.withSpec(spec);
}
