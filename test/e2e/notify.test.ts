import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aCliEnvironment, runCliAsync as runAsync } from '@test/support/cli';
import { FakeChat } from '@test/support/fake-chat';
import { REPORT_FIXTURE_SECRETS, reportFixture } from '@test/support/fixtures';

describe('closeloop notify (a Slack stand-in on 127.0.0.1)', () => {
  let slack: FakeChat;
  beforeAll(async () => {
    slack = await new FakeChat('slack').start();
  });
  afterAll(() => slack.stop());

  it('tells the channel about live credentials, then about SLA breaches at tick, each once; never a secret', async () => {
    const cli = aCliEnvironment();
    // The shipped defaults (nobody's owner mapped) with one channel for everything.
    const policy = join(cli.home, 'policy.json');
    writeFileSync(policy, JSON.stringify({ notifications: { channels: [{ name: 'secops', kind: 'slack' }] } }));
    const env = { ...cli.env, CLOSELOOP_POLICY: policy };
    const hooks = join(cli.home, 'notify-webhooks.json');
    writeFileSync(hooks, JSON.stringify({ secops: slack.url }));
    chmodSync(hooks, 0o600);
    const now = '2026-11-02T09:00:00.000Z';
    const at = { ...env, CLOSELOOP_NOW: now };

    expect((await runAsync(at, 'ingest', reportFixture('trufflehog-git.jsonl'))).code).toBe(0);
    expect((await runAsync(at, 'sync')).code).toBe(0);
    const first = await runAsync(at, 'notify');
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(
      /^notify: \d+ notice\(s\) routed to 1 channel\(s\)\n {2}secops \(slack\): sent a digest of \d+ notice\(s\)\n$/,
    );
    expect(slack.posted).toHaveLength(1);
    expect(JSON.stringify(slack.posted[0])).toContain('Live credentials to revoke');

    const later = { ...env, CLOSELOOP_NOW: '2026-11-07T09:00:00.000Z' };
    const tick = await runAsync(later, 'tick');
    expect(tick.code).toBe(0);
    expect(tick.stdout).toMatch(/ {2}secops \(slack\): sent a digest of \d+ notice\(s\)\n$/);
    expect(slack.posted).toHaveLength(2);
    const breaches = JSON.stringify(slack.posted[1]);
    expect(breaches).toContain('Overdue (SLA breached)');
    expect(breaches).toContain('for identity-programme');

    const again = await runAsync(later, 'notify');
    expect(again.stdout).toContain('secops (slack): nothing new');
    expect(slack.posted).toHaveLength(2);
    for (const message of slack.posted)
      for (const secret of REPORT_FIXTURE_SECRETS) expect(JSON.stringify(message)).not.toContain(secret);
  });

  it('refuses webhook URLs in a file other users can read, naming the fix and never the URL', async () => {
    const cli = aCliEnvironment();
    const policy = join(cli.home, 'policy.json');
    writeFileSync(policy, JSON.stringify({ notifications: { channels: [{ name: 'secops', kind: 'slack' }] } }));
    const env = { ...cli.env, CLOSELOOP_POLICY: policy };
    const hooks = join(cli.home, 'notify-webhooks.json');
    writeFileSync(hooks, JSON.stringify({ secops: slack.url }));
    chmodSync(hooks, 0o644);
    const posted = slack.posted.length;
    await runAsync(env, 'ingest', reportFixture('trufflehog-git.jsonl'));
    await runAsync(env, 'sync');
    const result = await runAsync(env, 'notify');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `closeloop: channel "secops" (slack): ${hooks} can be read by other users (mode 644); run chmod 600 on it`,
    );
    expect(result.stdout + result.stderr).not.toContain(slack.path);
    expect(slack.posted).toHaveLength(posted);
    chmodSync(hooks, 0o600);
    expect((await runAsync(env, 'notify')).code).toBe(0);
    expect(slack.posted).toHaveLength(posted + 1);
  });
});
