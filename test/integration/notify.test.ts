import { fireDueTimers } from '@core/lifecycle/timers';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import axios from 'axios';
import type { Finding } from '@core/finding/model';
import { updateFinding } from '@core/finding/update';
import { remediationNotConfigured, type RemediationPort } from '@core/lifecycle/ports';
import { runNotifier, type NotifierDeps } from '@core/notify/notifier';
import type { NotificationStore } from '@core/notify/ports';
import { parsePolicy, type Policy } from '@core/policy/policy';
import type { Clock } from '@core/shared/clock';
import { DynamoManagedSecretStore } from '@core/store/dynamo-managed-secret-store';
import { DynamoNotificationStore } from '@core/store/dynamo-notification-store';
import { SingleTable } from '@core/store/table';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { buildNotifier } from '@connectors/wiring/notify';
import { LocalLifecycleRunner } from '@local/lifecycle-runner';
import { aFreshStore } from '@test/support/dynamo';
import { FakeChat } from '@test/support/fake-chat';
import { aHasher } from '@test/support/factories';
import { reportFixture } from '@test/support/fixtures';

const T0 = Date.parse('2026-11-02T09:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;
/** Secrets in the fixtures: no message may carry them. */
const FIXTURE_SECRETS = ['AKIAFIXTURECLOSELP01', 'clfx_FAKE7Hq2mZ9wXv4TnR8sLd3KpB6yJc1fixture01'];

function movableClock(): Clock & { advance(ms: number): void } {
  let now = T0;
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

/** The shipped default policy (no owner mappings, no principals) plus notification channels. */
const policyWith = (channels: unknown[], extra: Record<string, unknown> = {}): Policy =>
  parsePolicy({ notifications: { channels }, ...extra }, 'test policy');

async function world(policy: Policy, remediation: RemediationPort = remediationNotConfigured) {
  const { store, client, tableName } = await aFreshStore();
  const table = new SingleTable(client, tableName);
  const clock = movableClock();
  const slack = await new FakeChat('slack').start();
  const teams = await new FakeChat('teams').start();
  const runner = new LocalLifecycleRunner({ store, clock, policy, remediation });
  const notifications = new DynamoNotificationStore(table);
  const urls: Record<string, string> = { secops: slack.url, approvers: teams.url };
  const deps = (overrides: Partial<NotifierDeps> = {}): NotifierDeps => ({
    ...buildNotifier({
      table,
      findings: store,
      secrets: new DynamoManagedSecretStore(table),
      clock,
      policy,
      worker: 'test-worker',
      webhooks: { urls, source: 'the test webhooks' },
      http: axios.create(),
    }),
    ...overrides,
  });
  const ingest = async () => {
    await ingestReportFiles([reportFixture('trufflehog-git.jsonl'), reportFixture('gitleaks-git.json')], {
      store,
      clock,
      hasher: aHasher(),
    });
    for (const f of await store.list()) await runner.start(f);
  };
  /** `closeloop tick` at the clock: fire due timers. */
  const tick = async () => {
    // As `closeloop tick`: escalations are recorded, ended exceptions resume their lifecycle.
    const fired = await fireDueTimers({ store, clock, policy });
    for (const f of fired.expired) await runner.resume(f, 'exception_expired');
  };
  const stop = async () => Promise.all([slack.stop(), teams.stop()]);
  return { store, table, clock, slack, teams, deps, ingest, tick, notifications, urls, stop };
}

const both = [
  { name: 'secops', kind: 'slack' },
  { name: 'approvers', kind: 'teams', to: ['role:*'], notices: ['approval.waiting'] },
];

describe('notifications (Slack and Teams stand-ins on 127.0.0.1, DynamoDB Local)', () => {
  it('tells the default policy’s escalation contact about live credentials and breaches, one digest per channel per run, exactly once, never a secret', async () => {
    const w = await world(policyWith(both));
    try {
      await w.ingest();
      const first = await runNotifier(w.deps());
      expect(first.problems).toEqual([]);
      expect(w.slack.posted).toHaveLength(1);
      expect(w.slack.violations).toEqual([]);
      const key = (await w.store.list()).find((f) => f.nhiType === 'cloud_access_key')!;
      const digest = JSON.stringify(w.slack.posted[0]);
      expect(digest).toContain('Live credentials to revoke');
      expect(digest).toContain(key.id);
      // Nobody mapped an owner: the identity programme's queue owns it and hears about it.
      expect(digest).toContain('owner identity-programme');
      for (const secret of FIXTURE_SECRETS) expect(digest).not.toContain(secret);

      // Nothing new: nothing is sent again.
      await runNotifier(w.deps());
      expect(w.slack.posted).toHaveLength(1);

      // Past the critical SLA (2 days): breaches go to the escalation contact, in one message.
      w.clock.advance(3 * DAY);
      await w.tick();
      const second = await runNotifier(w.deps());
      expect(second.channels.find((c) => c.channel === 'secops')).toMatchObject({ outcome: 'sent' });
      expect(w.slack.posted).toHaveLength(2);
      const breaches = JSON.stringify(w.slack.posted[1]);
      expect(breaches).toContain('Overdue (SLA breached)');
      expect(breaches).toContain(`${key.id} [critical]`);
      expect(breaches).toContain('for identity-programme');
      for (const secret of FIXTURE_SECRETS) expect(breaches).not.toContain(secret);
      await runNotifier(w.deps());
      expect(w.slack.posted).toHaveLength(2);
      const sent = await w.notifications.sentDigests('secops');
      expect(sent).toHaveLength(2);
      expect(new Set(sent.flatMap((d) => d.notices)).size).toBe(sent.flatMap((d) => d.notices).length);
    } finally {
      await w.stop();
    }
  });

  it('sends approvals waiting to the approvers’ channel only, as an Adaptive Card a Teams workflow accepts', async () => {
    // The plan found a managed secret for each credential, and the policy pre-authorizes nothing.
    const planned: RemediationPort = {
      remediate: async () => ({ remediation: 'needs_approval', reason: 'rotating it needs an approval' }),
    };
    const w = await world(
      policyWith(both, {
        preAuthorized: [],
        principals: [{ name: 'alice', roles: ['security-lead'] }],
      }),
      planned,
    );
    try {
      await w.ingest();
      const waiting = (await w.store.list()).filter((f) => f.status === 'awaiting_approval');
      expect(waiting.length).toBeGreaterThan(0);
      await runNotifier(w.deps());
      expect(w.teams.violations).toEqual([]);
      expect(w.teams.posted).toHaveLength(1);
      const card = JSON.stringify(w.teams.posted[0]);
      expect(card).toContain('Approvals waiting');
      for (const f of waiting) expect(card).toContain(f.id);
      expect(card).toContain('needs someone holding the security-lead role');
      expect(card).toContain('for role:security-lead, alice');
      // The approvers' channel carries approvals only.
      expect(card).not.toContain('Live credentials');
      for (const secret of FIXTURE_SECRETS) expect(card).not.toContain(secret);
    } finally {
      await w.stop();
    }
  });

  it('keeps a refused digest queued and sends it once the channel takes it; the webhook URL appears nowhere', async () => {
    const w = await world(policyWith([both[0]]));
    try {
      await w.ingest();
      w.slack.faults.push({ kind: 'status', status: 404, body: 'channel_not_found' });
      const refused = await runNotifier(w.deps());
      expect(refused.channels[0]).toMatchObject({ outcome: 'failed' });
      expect(refused.problems).toEqual([
        expect.stringMatching(
          /^channel "secops" \(slack\): Slack \(channel "secops"\) refused the message: HTTP 404 channel_not_found; the digest stays queued/,
        ),
      ]);
      expect(JSON.stringify(refused)).not.toContain(w.slack.path.split('/').pop());
      expect(w.slack.posted).toHaveLength(0);
      const retried = await runNotifier(w.deps());
      expect(retried.channels[0]).toMatchObject({ outcome: 'sent' });
      expect(retried.channels[0]!.repeat).toBeUndefined(); // a refusal delivered nothing: no "possible repeat"
      expect(w.slack.posted).toHaveLength(1);
      await runNotifier(w.deps());
      expect(w.slack.posted).toHaveLength(1);
    } finally {
      await w.stop();
    }
  });

  it('honours a 429 with Retry-After within the run: the message is posted once', async () => {
    const w = await world(policyWith([both[0]]));
    try {
      await w.ingest();
      w.slack.faults.push({ kind: 'status', status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } });
      const started = Date.now();
      const result = await runNotifier(w.deps());
      expect(result.channels[0]).toMatchObject({ outcome: 'sent' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(w.slack.posted).toHaveLength(1);
    } finally {
      await w.stop();
    }
  });

  it('sends a digest whose answer was lost again, marked as a possible repeat, and then never again', async () => {
    const w = await world(policyWith([both[0]]));
    try {
      await w.ingest();
      w.slack.faults.push({ kind: 'lose_answer' });
      const lost = await runNotifier(w.deps());
      expect(lost.channels[0]).toMatchObject({ outcome: 'failed' });
      expect(lost.problems[0]).toContain('gave no clear answer');
      expect(w.slack.posted).toHaveLength(1); // it did arrive
      const again = await runNotifier(w.deps());
      expect(again.channels[0]).toMatchObject({ outcome: 'sent', repeat: true });
      expect(w.slack.posted).toHaveLength(2);
      expect(JSON.stringify(w.slack.posted[1])).toContain('Possible repeat');
      // The same digest, not a new one: the same notices, under the same id.
      const ids = (m: unknown) =>
        JSON.stringify(m)
          .match(/NHI-[0-9A-F]{16}/g)
          ?.sort();
      expect(ids(w.slack.posted[1])).toEqual(ids(w.slack.posted[0]));
      await runNotifier(w.deps());
      expect(w.slack.posted).toHaveLength(2);
    } finally {
      await w.stop();
    }
  });

  it('recovers a run that stopped between sending and recording: the digest goes again, marked, once', async () => {
    const w = await world(policyWith([both[0]]));
    try {
      await w.ingest();
      const crashing: NotificationStore = Object.create(w.notifications);
      crashing.digestSent = () => Promise.reject(new Error('the process stopped'));
      await expect(runNotifier(w.deps({ store: crashing, leaseMs: 1 }))).rejects.toThrow('the process stopped');
      expect(w.slack.posted).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 5)); // the stopped sender's lease runs out
      const recovered = await runNotifier(w.deps());
      expect(recovered.channels[0]).toMatchObject({ outcome: 'sent', repeat: true });
      expect(w.slack.posted).toHaveLength(2);
      await runNotifier(w.deps());
      expect(w.slack.posted).toHaveLength(2);
    } finally {
      await w.stop();
    }
  });

  it('sends one message when two notifiers run at once', async () => {
    const w = await world(policyWith([both[0]]));
    try {
      await w.ingest();
      const results = await Promise.all([runNotifier(w.deps({ worker: 'a' })), runNotifier(w.deps({ worker: 'b' }))]);
      expect(w.slack.posted).toHaveLength(1);
      expect(results.flatMap((r) => r.channels.map((c) => c.outcome)).filter((o) => o === 'sent')).toHaveLength(1);
      expect(results.reduce((n, r) => n + r.routed, 0)).toBe(
        (await w.notifications.sentDigests('secops'))[0]!.notices.length,
      );
    } finally {
      await w.stop();
    }
  });

  it('routes every notice to none when no channel is configured (the default policy), so none piles up, without reading its finding', async () => {
    const w = await world(policyWith([]));
    try {
      await w.ingest();
      const pending = (await w.notifications.pendingNotices(1_000)).length;
      expect(pending).toBeGreaterThan(0);
      const findings = { getMany: jest.fn(w.store.getMany.bind(w.store)), list: w.store.list.bind(w.store) };

      const result = await runNotifier(w.deps({ findings }));

      expect(result).toMatchObject({ routed: pending, channels: [], problems: [] });
      expect(await w.notifications.pendingNotices(1_000)).toEqual([]);
      expect(findings.getMany).not.toHaveBeenCalled();
      expect(w.slack.posted).toEqual([]);
      // Routed once: a second run has nothing to route.
      expect(await runNotifier(w.deps({ findings }))).toMatchObject({ routed: 0 });
    } finally {
      await w.stop();
    }
  });

  it('announces an exception ending within 14 days to its owner and approver, once', async () => {
    const w = await world(policyWith([{ name: 'secops', kind: 'slack', to: ['alice', 'team-*'] }]));
    try {
      await w.ingest();
      const target = (await w.store.list())[0]!;
      const until = new Date(T0 + 30 * DAY).toISOString();
      await updateFinding(w.store, w.clock, target.id, (f: Finding) => ({
        finding: {
          ...f,
          owner: 'team-payments',
          status: 'risk_accepted',
          exception: {
            requestedBy: 'team-payments',
            requestedAt: f.firstSeen,
            until,
            reason: 'vendor migration',
            approvedBy: 'alice',
            approvedAt: f.firstSeen,
          },
        },
        events: [{ actor: 'test', action: 'risk.accepted', to: 'risk_accepted' }],
      }));
      await runNotifier(w.deps());
      const before = w.slack.posted.map((m) => JSON.stringify(m)).join('\n');
      expect(before).not.toContain('Exceptions ending soon'); // 30 days out: not yet
      w.clock.advance(20 * DAY);
      const announced = await runNotifier(w.deps());
      expect(announced.raised).toBe(1);
      const message = JSON.stringify(w.slack.posted.at(-1));
      expect(message).toContain('*Exceptions ending soon* (1)');
      expect(message).toContain(`accepted until ${until.slice(0, 10)} (in 10 days)`);
      expect(message).toContain('for team-payments, alice');
      const count = w.slack.posted.length;
      w.clock.advance(DAY);
      expect((await runNotifier(w.deps())).raised).toBe(0);
      expect(w.slack.posted).toHaveLength(count);
    } finally {
      await w.stop();
    }
  });

  it('keeps the notices of a channel without a webhook URL queued, naming where the URL goes', async () => {
    const w = await world(policyWith([{ name: 'payments', kind: 'slack' }]));
    try {
      await w.ingest();
      const missing = await runNotifier(w.deps());
      expect(missing.channels[0]).toMatchObject({ outcome: 'unavailable' });
      expect(missing.problems[0]).toMatch(
        /^channel "payments" \(slack\): no webhook URL for "payments" in the test webhooks; \d+ notice\(s\) stay queued for it$/,
      );
      w.urls.payments = w.slack.url;
      const sent = await runNotifier(w.deps());
      expect(sent.channels[0]).toMatchObject({ outcome: 'sent', notices: missing.channels[0]!.notices });
      expect(w.slack.posted).toHaveLength(1);
    } finally {
      await w.stop();
    }
  });

  it('tells the escalation contact once about a failed scheduled rotation of a managed secret, never twice for a redelivery', async () => {
    const w = await world(policyWith([both[0]]));
    try {
      const secrets = new DynamoManagedSecretStore(w.table);
      const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/ci-deploy-AbCdEf';
      const failure = {
        secretArn: arn,
        name: 'app/ci-deploy',
        rotator: 'iam_access_key' as const,
        outcome: 'failed' as const,
        deliveryId: 'cloudtrail-1',
        event: {
          actor: 'aws:secretsmanager',
          action: 'rotation.failed' as const,
          reason: 'scheduled rotation of app/ci-deploy failed; escalated to identity-programme',
          data: { escalatedTo: 'identity-programme' },
        },
      };
      expect(await secrets.record(failure, new Date(T0).toISOString())).toBe(true);
      expect(await secrets.record(failure, new Date(T0).toISOString())).toBe(false); // the same CloudTrail event again
      await runNotifier(w.deps());
      expect(w.slack.posted).toHaveLength(1);
      const message = JSON.stringify(w.slack.posted[0]);
      expect(message).toContain('*Rotation or containment failed* (1)');
      expect(message).toContain('managed secret app/ci-deploy');
      expect(message).toContain('for identity-programme');
      await runNotifier(w.deps());
      expect(w.slack.posted).toHaveLength(1);
    } finally {
      await w.stop();
    }
  });

  it('publishes email digests to the SNS topic with the channel as a message attribute', async () => {
    const sns = mockClient(SNSClient);
    const published: PublishCommand['input'][] = [];
    sns.on(PublishCommand).callsFake((input: PublishCommand['input']) => {
      published.push(input);
      return { MessageId: `m-${published.length}` };
    });
    const { store, client, tableName } = await aFreshStore();
    const table = new SingleTable(client, tableName);
    const clock = movableClock();
    const policy = policyWith([{ name: 'security-email', kind: 'email', to: ['identity-programme'] }]);
    try {
      await ingestReportFiles([reportFixture('trufflehog-git.jsonl')], { store, clock, hasher: aHasher() });
      const runner = new LocalLifecycleRunner({ store, clock, policy, remediation: remediationNotConfigured });
      for (const f of await store.list()) await runner.start(f);
      const deps = buildNotifier({
        table,
        findings: store,
        secrets: new DynamoManagedSecretStore(table),
        clock,
        policy,
        worker: 'w',
        webhooks: { urls: {}, source: 'none' },
        topicArn: 'arn:aws:sns:eu-west-1:123456789012:closeloop-notifications',
      });
      const result = await runNotifier(deps);
      expect(result.problems).toEqual([]);
      expect(published).toHaveLength(1);
      expect(published[0]).toMatchObject({
        TopicArn: 'arn:aws:sns:eu-west-1:123456789012:closeloop-notifications',
        MessageAttributes: { channel: { DataType: 'String', StringValue: 'security-email' } },
      });
      expect(published[0]!.Subject).toMatch(/^closeloop: \d+ live credentials?$/);
      expect(published[0]!.Message).toContain('Live credentials to revoke');
      for (const secret of FIXTURE_SECRETS) expect(published[0]!.Message).not.toContain(secret);
      await runNotifier(deps);
      expect(published).toHaveLength(1);
    } finally {
      sns.restore();
    }
  });
});
