import { aCliEnvironment, runCliAsync } from '@test/support/cli';
import { FakeJiraDc } from '@test/support/fake-jira-dc';
import { REPORT_FIXTURE_SECRETS, reportFixture } from '@test/support/fixtures';

describe('closeloop sync to Jira Data Center (a REST v2 stand-in on 127.0.0.1)', () => {
  let jira: FakeJiraDc;
  beforeAll(async () => {
    jira = await new FakeJiraDc().start();
  });
  afterAll(() => jira.stop());

  it('opens one issue per finding from the JIRA_DC_ variables, and a second sync changes nothing', async () => {
    const cli = aCliEnvironment();
    const env = {
      ...cli.env,
      JIRA_DC_BASE_URL: jira.url,
      JIRA_DC_TOKEN: 'dc-pat',
      JIRA_DC_PROJECT_KEY: 'SEC',
      CLOSELOOP_NOW: '2026-11-02T09:00:00.000Z',
    };
    expect((await runCliAsync(env, 'ingest', reportFixture('trufflehog-git.jsonl'))).code).toBe(0);
    const first = await runCliAsync(env, 'sync');
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const findings = JSON.parse((await runCliAsync(env, 'findings', '--json')).stdout) as Array<{ id: string }>;
    // Created, then the lifecycle's comments so far (owner unresolved, decisions) sent to them.
    expect(first.stdout).toMatch(
      new RegExp(`^sync: ${findings.length} ticket\\(s\\) created, \\d+ update\\(s\\) sent, 0 pending\\n$`),
    );
    expect(jira.issues.size).toBe(findings.length);
    expect(jira.violations).toEqual([]);
    const again = await runCliAsync(env, 'sync');
    expect(again.stdout).toBe('sync: 0 ticket(s) created, 0 update(s) sent, 0 pending\n');
    expect(jira.issues.size).toBe(findings.length);
    const sent = JSON.stringify(jira.requests);
    for (const secret of REPORT_FIXTURE_SECRETS) expect(sent).not.toContain(secret);
  });
});
