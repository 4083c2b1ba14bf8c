import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { signBody } from '@connectors/sinks/webhook-signature';
import { aCliEnvironment, type CliResult } from '@test/support/cli';
import { readOwnFixtureJson } from '@test/support/fixtures';
import { GithubStandIn, type StandInAlert } from '@test/support/scanner-standins';

const BIN = resolve(__dirname, '..', '..', 'bin', 'closeloop.js');
const WEBHOOK_SECRET = 'e2e-github-webhook-secret-0000';

/** The CLI without blocking this process: the GitHub stand-in answers it from here. */
function runAsync(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

describe('the loop closed at the source: GitHub secret scanning, through the CLI and serve, under the default policy', () => {
  const github = new GithubStandIn();
  let cli: ReturnType<typeof aCliEnvironment>;
  let run: (...args: string[]) => Promise<CliResult>;
  let alert: StandInAlert;
  let repository: string;
  let number: number;

  beforeAll(async () => {
    await github.start();
    // acme's alerts as GitHub lists them (the project's own fixture, fake secrets).
    for (const a of readOwnFixtureJson<Array<StandInAlert & { repository: { full_name: string } }>>(
      'scanners',
      'github',
      'org-alerts.json',
    ))
      github.addAlert(a.repository.full_name, a);
    cli = aCliEnvironment({
      env: { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url, GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET },
    });
    run = (...args) => runAsync(cli.env, ...args);
  });
  afterAll(() => github.stop());

  let id: string;
  it('pulls the alerts, and a finding closed on revocation evidence resolves its alert as revoked, naming the finding and the evidence', async () => {
    expect((await run('pull', 'github', '--org', 'acme')).code).toBe(0);
    expect((await run('sync')).code).toBe(0);
    const findings = JSON.parse((await run('findings', '--json')).stdout) as Array<{
      id: string;
      owner: string;
      status: string;
      sources: Array<{ scannerId: string }>;
    }>;
    // The one waiting for its owner (the Stripe key waits for an approver: the default policy pre-authorizes no rotation of it).
    const finding = findings.find((f) => f.status === 'open')!;
    id = finding.id;
    [repository, number] = ((m) => [m[1]!, Number(m[2])] as const)(/^(.+)#(\d+)$/.exec(finding.sources[0]!.scannerId)!);
    alert = github.alert(repository, number)!;
    const done = await run(
      'done',
      id,
      '--as',
      finding.owner,
      '--evidence',
      'secret_revoked_at_source:revoked in the Slack admin console on 2026-11-02',
    );
    expect(done.code).toBe(0);
    expect(JSON.parse((await run('show', id, '--json')).stdout)).toMatchObject({ status: 'resolved' });

    const sync = await run('sync');
    expect(sync.code).toBe(0);
    expect(sync.stdout).toContain('write-back: 1 scanner record(s) told');
    expect(alert).toMatchObject({ state: 'resolved', resolution: 'revoked' });
    expect(alert.resolution_comment).toContain(
      `closeloop: ${id} resolved on evidence: secret revoked at source (revoked in the Slack admin console on 2026-11-02).`,
    );
    const shown = JSON.parse((await run('show', id, '--json')).stdout) as {
      events: Array<{ action: string; reason?: string }>;
    };
    expect(shown.events.filter((e) => e.action === 'source.written_back').map((e) => e.reason)).toEqual([
      `GitHub alert ${repository}#${number} resolved as revoked`,
    ]);
    // Once: a second sync sends nothing.
    const patches = github.counts()[`PATCH /repos/${repository}/secret-scanning/alerts/${number}`];
    expect(patches).toBe(1);
    await run('sync');
    expect(github.counts()[`PATCH /repos/${repository}/secret-scanning/alerts/${number}`]).toBe(1);
    expect(github.violations).toEqual([]);
  });

  it('reopens the finding when someone reopens the alert (POST /webhooks/github on serve), and nothing is sent back twice', async () => {
    const server: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--tick-interval', '0'], {
      env: cli.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const url = await new Promise<string>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`serve did not start: ${output}`)), 60_000);
        server.stdout!.on('data', (c: Buffer) => {
          output += c.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (m) {
            clearTimeout(timer);
            ok(m[1]!);
          }
        });
        server.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      });
      expect(output).toContain('POST /webhooks/jira|jira-dc|servicenow|github');
      // Someone reopens the alert in GitHub, which says so.
      alert.state = 'open';
      alert.resolution = null;
      alert.resolution_comment = null;
      const body = JSON.stringify({
        action: 'reopened',
        alert: { number, secret_type: alert.secret_type, resolution: null, resolved_by: null },
        repository: { full_name: repository, private: true },
        sender: { login: 'dana' },
      });
      const post = (signature: string) =>
        fetch(`${url}/webhooks/github`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'secret_scanning_alert',
            'x-github-delivery': '5ca1ab1e-0000-4000-8000-000000000007',
            'x-hub-signature-256': signature,
          },
          body,
        });
      expect((await post(signBody(body, 'not-the-secret-0000'))).status).toBe(401);
      const answer = await post(signBody(body, WEBHOOK_SECRET));
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ outcome: 'applied', findingId: id });
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    const shown = JSON.parse((await run('show', id, '--json')).stdout) as {
      status: string;
      events: Array<{ action: string; actor: string }>;
    };
    expect(shown.status).toBe('reopened');
    // Its new lifecycle starts at once (serve hosts it), after the reopening.
    expect(shown.events).toContainEqual(expect.objectContaining({ action: 'finding.reopened', actor: 'github:dana' }));
    // The alert is open already: the reopening is not sent again.
    const before = github.counts()[`PATCH /repos/${repository}/secret-scanning/alerts/${number}`];
    expect((await run('sync')).code).toBe(0);
    expect(github.counts()[`PATCH /repos/${repository}/secret-scanning/alerts/${number}`]).toBe(before);
    expect(alert.state).toBe('open');
  });
});
