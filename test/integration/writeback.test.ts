import type { AuditEventDraft } from '@core/audit/chain';
import type { Evidence, Finding, Observation, Source } from '@core/finding/model';
import { updateFinding } from '@core/finding/update';
import { ingestObservations } from '@test/support/writeback';
import { DEFAULT_POLICY, parsePolicy, type Policy } from '@core/policy/policy';
import { fixedClock } from '@core/shared/clock';
import { DynamoWritebackStore } from '@core/store/dynamo-writeback-store';
import { SingleTable } from '@core/store/table';
import { syncWriteback, STUCK_ATTEMPTS } from '@core/writeback/sync';
import { buildWriters } from '@connectors/wiring/sources';
import { anObservation } from '@test/support/factories';
import { aFreshStore } from '@test/support/dynamo';
import { FakeSecurityHub, GithubStandIn, GitguardianStandIn } from '@test/support/scanner-standins';
import { FAST_RETRY } from '@test/support/tickets';

const at = '2026-11-01T12:00:00.000Z';
const clock = fixedClock(at);
const SECRET = 'AKIAIOSFODNN7EXAMPLE';
const PRODUCT = 'arn:aws:securityhub:eu-west-1::product/aws/securityhub';
const SH_ID =
  'arn:aws:securityhub:eu-west-1:123456789012:subscription/aws-foundational-security-best-practices/v/1.0.0/IAM.3/finding/1';
const V2 = {
  accountUid: '123456789012',
  productUid: 'arn:aws:securityhub:eu-west-1::productv2/aws/securityhub',
  findingUid: 'arn:aws:securityhub:eu-west-1:123456789012:security-control/IAM.3/finding/2',
};

const source = (overrides: Partial<Source>): Source => ({
  scanner: 'github-secret-scanning',
  scannerId: 'acme/api#7',
  ruleId: 'aws_access_key_id',
  firstReportedAt: at,
  state: 'open',
  ...overrides,
});
/** A leaked key GitHub secret scanning and ggshield (linked to its GitGuardian incident) both reported. */
const leak = (): Observation[] => [
  anObservation({ source: source({ ref: { system: 'github', repository: 'acme/api', alert: 7 } }) }),
  anObservation({
    source: source({
      scanner: 'ggshield',
      scannerId: 'c1:app.env:AWS Keys:3',
      ref: { system: 'gitguardian', incident: 41 },
    }),
  }),
];
/** A Security Hub CSPM control finding and one of the new Security Hub. */
const posture = (): Observation[] => [
  anObservation({
    fingerprint: 'aws:iam3',
    secretHash: undefined,
    source: source({
      scanner: 'security-hub',
      scannerId: SH_ID,
      ref: { system: 'securityhub', productArn: PRODUCT, id: SH_ID },
    }),
  }),
  anObservation({
    fingerprint: 'aws:iam3-v2',
    secretHash: undefined,
    source: source({ scanner: 'security-hub', scannerId: V2.findingUid, ref: { system: 'securityhub_v2', ...V2 } }),
  }),
];

async function aWorld(policy: Policy = DEFAULT_POLICY) {
  const { client, tableName, store } = await aFreshStore();
  const work = new DynamoWritebackStore(new SingleTable(client, tableName));
  const github = await new GithubStandIn().start();
  const gitguardian = await new GitguardianStandIn().start();
  const securityHub = new FakeSecurityHub();
  github.addAlert('acme/api', { number: 7, secret_type: 'aws_access_key_id' });
  gitguardian.addIncident(41);
  securityHub.addFinding(PRODUCT, SH_ID);
  securityHub.addFindingV2(V2);
  let realNow = new Date(at);
  const writers = buildWriters({
    github: { apiUrl: github.url, token: github.token, retry: FAST_RETRY },
    gitguardian: { apiUrl: gitguardian.url, token: gitguardian.token, retry: FAST_RETRY },
    securityHub: securityHub.client,
  });
  const deps = { store, work, clock, policy, writers, worker: 'test', now: () => realNow, random: () => 0.5 };
  const ids = await ingestObservations(store, clock, [...leak(), ...posture()]);
  /** A lifecycle transition as the lifecycle writes it (status, evidence, the event). */
  const transition = (
    id: string,
    status: Finding['status'],
    event: Omit<AuditEventDraft, 'at'>,
    evidence?: Evidence,
    extra: Partial<Finding> = {},
  ) =>
    updateFinding(store, clock, id, (f) => ({
      finding: { ...f, status, ...extra, evidence: evidence ? [...f.evidence, evidence] : f.evidence },
      events: [event],
    }));
  const resolveOn = (id: string, kind: Evidence['kind'], ref: string) =>
    transition(
      id,
      'resolved',
      {
        actor: 'closeloop:lifecycle',
        action: 'finding.resolved',
        to: 'resolved',
        reason: `closed on ${kind}`,
        evidenceRef: ref,
      },
      { kind, ref, at, recordedBy: 'closeloop:rotation', simulated: false },
    );
  return {
    store,
    work,
    github,
    gitguardian,
    securityHub,
    ids,
    deps,
    transition,
    resolveOn,
    sync: () => syncWriteback(deps, { deadlineMs: 5_000 }),
    later: (ms: number) => (realNow = new Date(realNow.getTime() + ms)),
    async close() {
      await github.stop();
      await gitguardian.stop();
      securityHub.restore();
    },
  };
}

describe('write-back when the loop closes', () => {
  it('tells every report behind a finding resolved on a rotation, exactly once, naming the finding and the evidence', async () => {
    const w = await aWorld();
    try {
      const [leakId, shId, v2Id] = w.ids;
      await w.resolveOn(leakId!, 'rotation_record', 'rotation:app/ci-deploy v3');
      await w.resolveOn(shId!, 'key_deactivated', 'iam:ci-deploy/AKIA…(20)');
      await w.resolveOn(v2Id!, 'key_deactivated', 'iam:ci-deploy/AKIA…(20)');

      expect(await w.sync()).toMatchObject({ written: 4, pending: 0, problems: [] });

      const alert = w.github.alert('acme/api', 7)!;
      expect(alert).toMatchObject({ state: 'resolved', resolution: 'revoked' });
      expect(alert.resolution_comment).toMatch(
        new RegExp(`^closeloop: ${leakId} resolved on evidence: rotation record \\(rotation:app/ci-deploy v3\\)`),
      );
      const incident = w.gitguardian.incidents.get(41)!;
      expect(incident).toMatchObject({ status: 'RESOLVED', secret_revoked: true });
      expect(incident.notes.map((n) => n.comment)).toEqual([
        expect.stringContaining(`${leakId} resolved on evidence: rotation record`),
      ]);
      expect(w.securityHub.finding(PRODUCT, SH_ID)).toMatchObject({
        workflow: 'RESOLVED',
        note: {
          UpdatedBy: 'closeloop',
          Text: expect.stringContaining(`${shId} resolved on evidence: key deactivated`),
        },
      });
      expect(w.securityHub.findingV2(V2)).toMatchObject({ statusId: 4, comment: expect.stringContaining(v2Id!) });

      // The audit trail says who was told what.
      const told = (await w.store.events(leakId!)).filter((e) => e.action === 'source.written_back');
      expect(told.map((e) => e.reason)).toEqual([
        'GitHub alert acme/api#7 resolved as revoked',
        'GitGuardian incident 41 resolved (secret revoked)',
      ]);

      // Again: nothing left to tell, no request sent.
      const before = [w.github.requests.length, w.gitguardian.requests.length, w.securityHub.calls.length];
      expect(await w.sync()).toMatchObject({ written: 0, pending: 0 });
      expect([w.github.requests.length, w.gitguardian.requests.length, w.securityHub.calls.length]).toEqual(before);
      expect([...w.github.violations, ...w.gitguardian.violations, ...w.securityHub.violations]).toEqual([]);
      // No secret in anything sent.
      for (const r of [...w.github.requests, ...w.gitguardian.requests]) expect(r.raw).not.toContain(SECRET);
    } finally {
      await w.close();
    }
  });

  it('does not claim a revocation the evidence does not prove: GitHub gets wont_fix, GitGuardian secret_revoked false', async () => {
    const w = await aWorld();
    try {
      await w.resolveOn(w.ids[0]!, 'clean_rescan', 'scan:gitleaks:nightly.json');
      await w.sync();
      expect(w.github.alert('acme/api', 7)).toMatchObject({
        state: 'resolved',
        resolution: 'wont_fix',
        resolution_comment: expect.stringContaining('Revocation at the source was not proven.'),
      });
      expect(w.gitguardian.incidents.get(41)).toMatchObject({ status: 'RESOLVED', secret_revoked: false });
    } finally {
      await w.close();
    }
  });

  it('closes a false positive as one, suppresses an accepted risk until its end date, and reopening sets them back', async () => {
    const w = await aWorld();
    try {
      const [leakId, shId] = w.ids;
      await w.transition(leakId!, 'false_positive', {
        actor: 'alice',
        action: 'finding.false_positive',
        to: 'false_positive',
        reason: 'a documented test key',
      });
      await w.transition(
        shId!,
        'risk_accepted',
        {
          actor: 'closeloop:lifecycle',
          action: 'risk.accepted',
          to: 'risk_accepted',
          reason: 'accepted until 2027-01-31',
        },
        undefined,
        {
          exception: {
            requestedBy: 'team-a',
            requestedAt: at,
            until: '2027-01-31T00:00:00.000Z',
            reason: 'vendor',
            approvedBy: 'alice',
          },
        },
      );
      await w.sync();
      expect(w.github.alert('acme/api', 7)).toMatchObject({
        state: 'resolved',
        resolution: 'false_positive',
        resolution_comment: expect.stringContaining('closed as a false positive by alice: a documented test key'),
      });
      expect(w.gitguardian.incidents.get(41)).toMatchObject({ status: 'IGNORED', ignore_reason: 'false_positive' });
      expect(w.securityHub.finding(PRODUCT, SH_ID)).toMatchObject({
        workflow: 'SUPPRESSED',
        note: { Text: expect.stringContaining('risk accepted until 2027-01-31, approved by alice') },
      });

      for (const id of [leakId!, shId!])
        await w.transition(id, 'reopened', {
          actor: 'closeloop:lifecycle',
          action: 'finding.reopened',
          to: 'reopened',
          reason: 'exception expired while still exposed',
        });
      await w.sync();
      expect(w.github.alert('acme/api', 7)).toMatchObject({ state: 'open', resolution: null });
      expect(w.gitguardian.incidents.get(41)).toMatchObject({ status: 'TRIGGERED' });
      expect(w.securityHub.finding(PRODUCT, SH_ID)).toMatchObject({
        workflow: 'NEW',
        note: { Text: expect.stringContaining('reopened: exception expired') },
      });
      expect([...w.github.violations, ...w.gitguardian.violations, ...w.securityHub.violations]).toEqual([]);
    } finally {
      await w.close();
    }
  });

  it('marks a Security Hub finding NOTIFIED with the ticket link when its ticket is created', async () => {
    const w = await aWorld();
    try {
      const shId = w.ids[1]!;
      await w.transition(
        shId,
        'open',
        { actor: 'closeloop:sync', action: 'ticket.created', to: 'SEC-4', reason: 'Jira SEC-4 (created)' },
        undefined,
        {
          ticket: { system: 'jira', key: 'SEC-4', url: 'https://acme.atlassian.net/browse/SEC-4' },
          owner: 'team-platform',
        },
      );
      await w.sync();
      expect(w.securityHub.finding(PRODUCT, SH_ID)).toMatchObject({
        workflow: 'NOTIFIED',
        note: {
          Text: expect.stringContaining(
            'tracked in ticket SEC-4 (https://acme.atlassian.net/browse/SEC-4); owner team-platform',
          ),
        },
      });
      expect(w.securityHub.findingV2(V2)).toMatchObject({ statusId: 1 }); // a different finding: untouched
    } finally {
      await w.close();
    }
  });

  it('retries a failed write with backoff, never loses it, and keeps the order (no reopening before the resolution)', async () => {
    const w = await aWorld();
    try {
      const leakId = w.ids[0]!;
      let githubDown = true;
      w.github.fault = ({ method }) => (githubDown && method === 'PATCH' ? '500' : 'none');
      await w.resolveOn(leakId, 'rotation_record', 'rotation:v3');
      await w.transition(leakId, 'reopened', {
        actor: 'jira',
        action: 'finding.reopened',
        to: 'reopened',
        reason: 'ticket reopened',
      });

      const first = await w.sync();
      expect(first).toMatchObject({ pending: 2 });
      expect(first.problems).toEqual([
        expect.stringMatching(
          new RegExp(
            `^${leakId} \\(resolve, attempt 1\\): GitHub github:acme/api#7: .*HTTP 500.*; next try after 2026-11-01T12:00:22Z$`,
          ),
        ),
      ]);
      // GitGuardian was not told either: the resolution waits as a whole, and the reopening behind it.
      expect(w.gitguardian.incidents.get(41)).toMatchObject({ status: 'TRIGGERED' });
      // Not due yet: nothing is sent.
      const sent = w.github.requests.length;
      await w.sync();
      expect(w.github.requests.length).toBe(sent);

      githubDown = false;
      w.later(60_000);
      expect(await w.sync()).toMatchObject({ pending: 0, problems: [] });
      // Resolved, then reopened, in that order; each told once.
      const patches = w.github.requests
        .filter((r) => r.method === 'PATCH')
        .map((r) => (r.body as { state: string }).state);
      expect(patches.slice(-2)).toEqual(['resolved', 'open']);
      expect(w.github.alert('acme/api', 7)).toMatchObject({ state: 'open' });
      expect(w.gitguardian.incidents.get(41)!.notes).toHaveLength(2);
    } finally {
      await w.close();
    }
  });

  it('adds no second note when the answer to the first was lost', async () => {
    const w = await aWorld();
    try {
      let dropped = false;
      w.gitguardian.fault = ({ method, path }) => {
        if (method === 'POST' && path.endsWith('/notes') && !dropped) {
          dropped = true;
          return 'drop-after';
        }
        return 'none';
      };
      await w.resolveOn(w.ids[0]!, 'rotation_record', 'rotation:v3');
      expect((await w.sync()).pending).toBe(1);
      w.later(60_000);
      expect((await w.sync()).pending).toBe(0);
      expect(w.gitguardian.incidents.get(41)!.notes).toHaveLength(1);
      expect(w.gitguardian.counts()['POST /v1/incidents/secrets/41/resolve']).toBe(1);
    } finally {
      await w.close();
    }
  });

  it('counts work stuck after repeated failures, and still keeps it', async () => {
    const w = await aWorld();
    try {
      w.securityHub.throttleNext = 100;
      await w.resolveOn(w.ids[1]!, 'key_deactivated', 'iam:k');
      let result = await w.sync();
      for (let i = 1; i < STUCK_ATTEMPTS; i++) {
        w.later(2 * 60 * 60_000);
        result = await w.sync();
      }
      expect(result).toMatchObject({ pending: 1, stuck: 1 });
      expect(result.problems[0]).toContain(`attempt ${STUCK_ATTEMPTS}`);
      expect(result.problems[0]).toContain('Rate exceeded');
      w.securityHub.throttleNext = 0;
      w.later(2 * 60 * 60_000);
      expect(await w.sync()).toMatchObject({ pending: 0, stuck: 0 });
      expect(w.securityHub.finding(PRODUCT, SH_ID)!.workflow).toBe('RESOLVED');
    } finally {
      await w.close();
    }
  });

  it('leaves a source alone when the policy turns its write-back off, and says so on the work', async () => {
    const w = await aWorld(parsePolicy({ writeBack: { github: false } }, 'policy.json'));
    try {
      await w.resolveOn(w.ids[0]!, 'rotation_record', 'rotation:v3');
      expect(await w.sync()).toMatchObject({ written: 1, skipped: 1, pending: 0 });
      expect(w.github.counts()).toEqual({});
      expect(w.gitguardian.incidents.get(41)!.status).toBe('RESOLVED');
    } finally {
      await w.close();
    }
  });

  it('keeps a person’s own resolution in GitHub and skips a record the scanner no longer has', async () => {
    const w = await aWorld();
    try {
      w.github.alert('acme/api', 7)!.state = 'resolved';
      w.github.alert('acme/api', 7)!.resolution = 'used_in_tests';
      w.securityHub.findings.clear();
      await w.resolveOn(w.ids[0]!, 'rotation_record', 'rotation:v3');
      await w.resolveOn(w.ids[1]!, 'key_deactivated', 'iam:k');
      expect(await w.sync()).toMatchObject({ pending: 0, problems: [] });
      expect(w.github.counts()['PATCH /repos/acme/api/secret-scanning/alerts/7']).toBeUndefined();
      expect(w.github.alert('acme/api', 7)!.resolution).toBe('used_in_tests');
      const told = (await w.store.events(w.ids[0]!)).filter((e) => e.action === 'source.written_back');
      expect(told[0]!.reason).toBe('GitHub alert acme/api#7 was already resolved (used_in_tests)');
    } finally {
      await w.close();
    }
  });
});
