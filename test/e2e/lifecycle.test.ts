import { join, resolve } from 'node:path';
import { aCliEnvironment } from '@test/support/cli';

const SAMPLES = resolve(__dirname, '..', '..', 'samples');
const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.parse('2026-11-22T10:00:00.000Z');
const at = (days: number) => new Date(T0 + days * DAY).toISOString();

interface Row {
  id: string;
  status: string;
  owner: string;
  severity: string;
  nhiType: string;
  sources: Array<{ scanner: string }>;
}

describe('the finding lifecycle through the CLI', () => {
  const cli = aCliEnvironment({ env: { CLOSELOOP_POLICY: join(SAMPLES, 'policy.json'), CLOSELOOP_NOW: at(0) } });
  const findings = () => JSON.parse(cli.run('findings', '--json').stdout) as Row[];
  const show = (id: string) =>
    JSON.parse(cli.run('show', id, '--json').stdout) as Row & { events: Array<{ action: string; actor: string }> };
  let awsKey: Row;
  let token: Row;

  beforeAll(() => {
    // The lifecycles start in the ingest command itself, once its files are in.
    const ingest = cli.run(
      'ingest',
      join(SAMPLES, 'gitleaks-payments-api.json'),
      join(SAMPLES, 'trufflehog-payments-api.jsonl'),
      join(SAMPLES, 'github-secret-scanning-acme.json'),
    );
    expect(ingest).toMatchObject({ code: 0, stderr: '' });
    expect(ingest.stdout).toContain('\n  5 lifecycle(s) started\n');
    const tick = cli.run('tick');
    expect(tick.code).toBe(0);
    expect(tick.stdout).toMatch(/tick at 2026-11-22T10:00:00.000Z: 0 lifecycle\(s\) started, 0 timer\(s\) fired/);
    awsKey = findings().find((f) => f.nhiType === 'cloud_access_key')!;
    token = findings().find((f) => f.sources[0]!.scanner === 'github-secret-scanning')!;
  });

  it('gives every open finding a named owner from the policy mappings and a due date', () => {
    for (const f of findings()) expect(f.owner).toMatch(/^team-(payments|checkout)$/);
    expect(awsKey).toMatchObject({ owner: 'team-payments', status: 'open', severity: 'critical' });
    expect(token).toMatchObject({ owner: 'team-checkout', status: 'awaiting_approval' });
  });

  it('refuses an approval from someone without the role, with one line and no change', () => {
    const before = show(token.id).events.length;
    expect(cli.run('approve', token.id, '--as', 'mallory')).toMatchObject({
      code: 1,
      stderr: 'closeloop: mallory does not hold the approver role required to approve high findings\n',
    });
    expect(show(token.id).events.length).toBe(before);
  });

  it('an approver approves; with no AWS endpoint the rotation is a dry run, which never closes, so the owner fixes it', () => {
    const out = cli.run('approve', token.id, '--as', 'bob');
    expect(out).toMatchObject({ code: 0, stdout: `approved by bob; ${token.id}: waiting at AwaitOwnerFix\n` });
    const actions = show(token.id).events.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'approval.requested',
        'approval.granted',
        'remediation.started',
        'remediation.completed',
        'verification.failed',
        'remediation.assigned',
      ]),
    );
    expect(show(token.id).status).toBe('open');
    // `show` lists the plan of calls under the simulated rotation.
    const text = cli.run('show', token.id).stdout;
    expect(text).toContain(
      'remediation.completed by closeloop:rotation — rotation simulated (dry run): not closing evidence',
    );
    expect(text).toMatch(/· \[dry run\] secretsmanager:RotateSecret .+ClientRequestToken=[0-9a-f-]{36}/);
  });

  it('takes an exception request only from the owner, within the policy maximum', () => {
    expect(
      cli.run(
        'exception',
        'request',
        awsKey.id,
        '--until',
        at(30).slice(0, 10),
        '--reason',
        'vendor migration',
        '--as',
        'bob',
      ),
    ).toMatchObject({
      code: 1,
      stderr: `closeloop: only the owner (team-payments) can request an exception for ${awsKey.id}\n`,
    });
    expect(
      cli.run('exception', 'request', awsKey.id, '--until', '2027-06-01', '--reason', 'r', '--as', 'team-payments'),
    ).toMatchObject({
      code: 1,
      stderr:
        'closeloop: exception until 2027-06-01 exceeds the 90-day maximum for critical findings (latest 2027-02-20)\n',
    });
    expect(
      cli.run('exception', 'request', awsKey.id, '--until', 'next week', '--reason', 'r', '--as', 'team-payments'),
    ).toMatchObject({ code: 2, stderr: 'closeloop: --until must be an ISO-8601 date, got "next week"\n' });
    const ok = cli.run(
      'exception',
      'request',
      awsKey.id,
      '--until',
      at(30),
      '--reason',
      'vendor migration',
      '--compensating-control',
      'key scoped to one bucket',
      '--as',
      'team-payments',
    );
    expect(ok).toMatchObject({
      code: 0,
      stdout: `exception requested until ${at(30).slice(0, 10)}; ${awsKey.id}: waiting at AwaitExceptionApproval\n`,
    });
  });

  it('enforces separation of duties and the severity role on the exception decision', () => {
    expect(cli.run('exception', 'approve', awsKey.id, '--as', 'team-payments')).toMatchObject({
      code: 1,
      stderr: 'closeloop: separation of duties: team-payments requested this exception and cannot approve it\n',
    });
    expect(cli.run('exception', 'approve', awsKey.id, '--as', 'bob')).toMatchObject({
      code: 1,
      stderr: 'closeloop: bob does not hold the security-lead role required to approve critical findings\n',
    });
    expect(cli.run('exception', 'approve', awsKey.id, '--as', 'alice')).toMatchObject({
      code: 0,
      stdout: `exception approved by alice; ${awsKey.id}: waiting at AcceptRisk\n`,
    });
    expect(show(awsKey.id).status).toBe('risk_accepted');
    // The list shows when an accepted risk comes back, and `show` shows the exception whole.
    const row = cli
      .run('findings')
      .stdout.split('\n')
      .find((line) => line.startsWith(awsKey.id))!;
    expect(row).toMatch(
      new RegExp(`risk_accepted +cloud_access_key +team-payments +${at(30).slice(0, 10)} \\(exception ends\\)`),
    );
    expect(cli.run('show', awsKey.id).stdout).toMatch(
      new RegExp(
        `\\n  exception until ${at(30)} · requested by team-payments · approved by alice at \\S+ · reason: vendor migration · compensating control: key scoped to one bucket\\n`,
      ),
    );
  });

  it('escalates overdue findings and reopens the exception at its end, when the clock moves on', () => {
    const tick = cli.runWith({ CLOSELOOP_NOW: at(31) }, 'tick');
    expect(tick.code).toBe(0);
    expect(tick.stdout).toContain(`exception expiry ${awsKey.id}: waiting at AwaitOwnerFix`);
    expect(tick.stdout).toMatch(/^sla\.breached NHI-[0-9A-F]{16}$/m);
    const key = show(awsKey.id);
    expect(key.status).toBe('reopened');
    expect(key.events.map((e) => e.action)).toEqual(
      expect.arrayContaining([
        'exception.requested',
        'exception.approved',
        'risk.accepted',
        'exception.expired',
        'finding.reopened',
      ]),
    );
    const overdue = show(token.id);
    expect(overdue.events.map((e) => e.action)).toContain('sla.breached');
    // The auditor's exceptions report lists it as expired and reopened: who asked, who approved, when.
    const report = JSON.parse(
      cli.runWith({ CLOSELOOP_NOW: at(31) }, 'report', 'exceptions', '--format', 'json').stdout,
    ) as { sections: Array<{ title: string; rows: unknown[][] }> };
    const expired = report.sections.find((s) => s.title === 'Expired and reopened')!;
    expect(expired.rows.filter((row) => row[0] === awsKey.id)).toEqual([
      [awsKey.id, 'team-payments', 'team-payments', 'alice', at(31).slice(0, 10), at(33).slice(0, 10)],
    ]); // critical: due 2 days after it reopened
  });

  it('closes a false positive only through an approver with a reason; its owner may claim one, which an approver rejects or confirms', () => {
    const webhook = findings().find((f) => f.nhiType === 'webhook_url')!;
    expect(cli.run('false-positive', webhook.id, '--reason', 'test fixture', '--as', 'team-payments').code).toBe(1);
    // The owner claims it; the claim waits for an approver, never for the claimant.
    expect(cli.run('false-positive', webhook.id, '--claim', '--as', 'team-payments')).toMatchObject({
      code: 2,
      stderr: 'closeloop: --reason is required to claim a false positive\n',
    });
    expect(
      cli.run('false-positive', webhook.id, '--claim', '--reason', 'a sample in the docs', '--as', 'team-payments'),
    ).toMatchObject({ code: 0, stdout: expect.stringContaining('false positive claimed by team-payments') });
    expect(cli.run('false-positive', webhook.id, '--reject', '--as', 'team-payments').code).toBe(1);
    expect(
      cli.run('false-positive', webhook.id, '--reject', '--reason', 'it is posted to from CI', '--as', 'alice'),
    ).toMatchObject({ code: 0, stdout: expect.stringContaining('false-positive claim rejected by alice') });
    expect(show(webhook.id).events.map((e) => e.action)).toEqual(
      expect.arrayContaining(['false_positive.claimed', 'false_positive.rejected']),
    );
    expect(show(webhook.id).status).toBe('open');
    expect(cli.run('false-positive', webhook.id, '--claim', '--reject', '--as', 'alice').code).toBe(2);
    expect(
      cli.run('false-positive', webhook.id, '--reason', 'a documentation example, never a live hook', '--as', 'alice'),
    ).toMatchObject({ code: 0, stdout: `false positive by alice; ${webhook.id}: lifecycle succeeded\n` });
    expect(show(webhook.id).status).toBe('false_positive');
  });

  it('bounces "done" without the evidence the policy names, then resolves on a deactivated key', () => {
    const privateKey = findings().find((f) => f.nhiType === 'private_key')!;
    expect(cli.run('done', privateKey.id, '--as', 'bob', '--note', 'removed')).toMatchObject({
      code: 1,
      stderr: `closeloop: only the owner (team-payments) can report ${privateKey.id} fixed\n`,
    });
    expect(cli.run('done', privateKey.id, '--as', 'team-payments', '--evidence', 'magic:123').code).toBe(2);
    // A private key closes on a rotation record or a resolution note (policy defaults).
    expect(
      cli.run(
        'done',
        privateKey.id,
        '--as',
        'team-payments',
        '--note',
        'deploy key replaced; old key removed from GitHub',
      ),
    ).toMatchObject({ code: 0, stdout: `reported fixed by team-payments; ${privateKey.id}: lifecycle succeeded\n` });
    expect(show(privateKey.id).status).toBe('resolved');

    // The reopened AWS key needs a rotation record, a deactivated key or a revocation: a note is not enough.
    const bounced = cli.runWith(
      { CLOSELOOP_NOW: at(32) },
      'done',
      awsKey.id,
      '--as',
      'team-payments',
      '--note',
      'fixed it',
    );
    expect(bounced).toMatchObject({
      code: 0,
      stdout: `reported fixed by team-payments; ${awsKey.id}: waiting at AwaitOwnerFix\n`,
    });
    expect(show(awsKey.id).events.map((e) => e.action)).toContain('verification.failed');
    const closed = cli.runWith(
      { CLOSELOOP_NOW: at(32) },
      'done',
      awsKey.id,
      '--as',
      'team-payments',
      '--evidence',
      'key_deactivated:cloudtrail:UpdateAccessKey:evt-123',
    );
    expect(closed).toMatchObject({
      code: 0,
      stdout: `reported fixed by team-payments; ${awsKey.id}: lifecycle succeeded\n`,
    });
    const resolved = show(awsKey.id) as Row & { events: Array<{ action: string; evidenceRef?: string }> };
    expect(resolved.status).toBe('resolved');
    expect(resolved.events.at(-1)).toMatchObject({
      action: 'finding.resolved',
      evidenceRef: 'cloudtrail:UpdateAccessKey:evt-123',
    });
  });

  it('keeps every audit chain intact through all of it', () => {
    expect(cli.run('audit', 'verify')).toMatchObject({ code: 0 });
  });
});
