import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyChain } from '@core/audit/chain';
import { applyCleanRescans } from '@core/lifecycle/rescan';
import { fireDueTimers } from '@core/lifecycle/timers';
import { computeReport } from '@core/reports/reports';
import { DynamoReportSource } from '@core/store/dynamo-report-source';
import { SingleTable } from '@core/store/table';
import { awsResourceTags } from '@connectors/aws/resource-tags';
import { aRotationWorld } from '@test/support/rotation';
import type { Clock } from '@core/shared/clock';
import { remediationNotConfigured, type RemediationPort } from '@core/lifecycle/ports';
import { updateFinding } from '@core/finding/update';
import { DEFAULT_POLICY } from '@core/policy/policy';
import { SEVERITIES, type Finding } from '@core/finding/model';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { LocalLifecycleRunner } from '@local/lifecycle-runner';
import { ticketDraft } from '@core/tickets/draft';
import { ticketText } from '@core/tickets/outbox';
import { reportFixture } from '@test/support/fixtures';
import { aGitleaksRecord, aHasher } from '@test/support/factories';
import { aFreshStore } from '@test/support/dynamo';
import { localDecisions } from '@test/support/local-decisions';

const T0 = Date.parse('2026-11-01T09:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;

/** A clock the test moves forward, like CLOSELOOP_NOW between commands. */
function movableClock(): Clock & { advance(ms: number): void } {
  let now = T0;
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

async function setup(remediation: RemediationPort = remediationNotConfigured) {
  const { store, client, tableName } = await aFreshStore();
  const table = new SingleTable(client, tableName);
  const clock = movableClock();
  await ingestReportFiles([reportFixture('trufflehog-git.jsonl'), reportFixture('gitleaks-git.json')], {
    store,
    clock,
    hasher: aHasher(),
  });
  const runner = new LocalLifecycleRunner({ store, clock, policy: DEFAULT_POLICY, remediation });
  const find = async (predicate: (f: Finding) => boolean) => (await store.list()).find(predicate)!;
  const actions = async (id: string) => (await store.events(id)).map((e) => e.action);
  return { store, table, clock, runner, find, actions };
}

describe('local finding lifecycle (DynamoDB Local, aws-local-stepfunctions)', () => {
  it('triages a verified AWS key, falls back to the owner when rotation is not configured, and parks', async () => {
    const { runner, find, actions, store } = await setup();
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    const run = await runner.start(key);
    expect(run).toMatchObject({
      outcome: 'parked',
      parkedAt: 'AwaitOwnerFix',
      path: ['Enter', 'Triage', 'Route', 'Remediate', 'RemediationOutcome', 'AwaitOwnerFix'],
    });
    const after = (await store.get(key.id))!;
    expect(after).toMatchObject({
      status: 'open',
      owner: 'identity-programme',
      ownerVia: 'unowned_queue',
      dueAt: new Date(T0 + 2 * DAY).toISOString(),
    });
    expect(after.lifecycle).toMatchObject({
      startedGeneration: 1,
      waitingAt: 'AwaitOwnerFix',
      timerAt: after.dueAt,
      timerKind: 'sla_breach',
    });
    expect((await actions(key.id)).slice(1)).toEqual([
      'lifecycle.started',
      'owner.assigned',
      'sla.started',
      'owner.unresolved',
      'decision.made',
      'remediation.assigned',
    ]);
  });

  it('starts a generation once: a second start does nothing', async () => {
    const { runner, find, actions } = await setup();
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    await runner.start(key);
    const count = (await actions(key.id)).length;
    expect(await runner.start(key)).toBeUndefined();
    expect(await Promise.all([runner.start(key), runner.start(key)])).toEqual([undefined, undefined]);
    expect((await actions(key.id)).length).toBe(count);
  });

  it('escalates at the due date, then again at the cadence while overdue, without resuming the execution', async () => {
    const { runner, find, actions, store, clock } = await setup();
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    await runner.start(key);
    expect(await store.dueTimers(new Date(T0 + DAY).toISOString())).toEqual([]);
    clock.advance(2 * DAY + 1000);
    const [due] = await store.dueTimers(clock.now().toISOString());
    expect(due!.id).toBe(key.id);
    const timers = { store, clock, policy: DEFAULT_POLICY };
    expect(await fireDueTimers(timers)).toEqual({
      escalated: [{ id: key.id, actions: ['sla.breached'] }],
      expired: [],
    });
    expect(await fireDueTimers(timers)).toEqual({ escalated: [], expired: [] }); // nothing more is due yet
    clock.advance(2 * DAY + 1000);
    await fireDueTimers(timers);
    const trail = await actions(key.id);
    expect(trail.filter((a) => a.startsWith('sla.'))).toEqual(['sla.started', 'sla.breached', 'sla.escalated']);
    const after = (await store.get(key.id))!;
    expect(after.lifecycle).toMatchObject({ waitingAt: 'AwaitOwnerFix', timerKind: 'sla_breach' });
    expect(after.lifecycle!.timerAt).toBe(new Date(clock.now().getTime() + 2 * DAY).toISOString());
  });

  it('asks for approval only for a remediation the plan found; a rejection sends it to the owner', async () => {
    // The plan found a managed secret holding it, but the policy does not pre-authorize rotating it.
    const plannedButNotPreAuthorized: RemediationPort = {
      remediate: async () => ({
        remediation: 'needs_approval',
        reason: 'rotating app/ci needs approval by someone holding the approver role',
      }),
    };
    const { runner, find, store, actions } = await setup(plannedButNotPreAuthorized);
    const apiKey = await find((f) => f.nhiType === 'api_key');
    expect(await runner.start(apiKey)).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitApproval' });
    const waiting = (await store.get(apiKey.id))!;
    expect(waiting).toMatchObject({ status: 'awaiting_approval', lifecycle: { waitingAt: 'AwaitApproval' } });
    expect(waiting.lifecycle!.approvalDueAt).toBe(new Date(T0 + 3 * DAY).toISOString());
    expect((await store.events(apiKey.id)).find((e) => e.action === 'approval.requested')!.reason).toMatch(
      /^rotating app\/ci needs approval by someone holding the approver role; the owner may request an exception meanwhile$/,
    );
    const rejected = await runner.resume(apiKey, 'approval_decided', {
      signal: { decision: 'rejected', subject: 'remediation', by: 'alice' },
    });
    expect(rejected.path).toEqual(['Enter', 'ApprovalDecided', 'AwaitOwnerFix']);
    expect((await store.get(apiKey.id))!).toMatchObject({ status: 'open', lifecycle: { timerKind: 'sla_breach' } });
    expect(await actions(apiKey.id)).toContain('approval.requested');
  });

  it('asks for no approval when nothing can remediate the credential: straight to its owner, saying why', async () => {
    const { runner, find, store, actions } = await setup();
    const apiKey = await find((f) => f.nhiType === 'api_key');
    expect(await runner.start(apiKey)).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitOwnerFix' });
    expect(await actions(apiKey.id)).not.toContain('approval.requested');
    const assigned = (await store.events(apiKey.id)).find((e) => e.action === 'remediation.assigned')!;
    expect(assigned.reason).toContain('rotation not configured');
  });

  it('bounces "done" without evidence, then resolves on a rotation record', async () => {
    const { runner, find, store, actions } = await setup();
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    await runner.start(key);
    const bounced = await runner.resume(key, 'owner_signal', { signal: { kind: 'fixed', by: 'owner' } });
    expect(bounced.path).toEqual(['Enter', 'OwnerSignal', 'Verify', 'Verified', 'AwaitOwnerFix']);
    expect(await actions(key.id)).toContain('verification.failed');
    await updateFinding(store, movableClock(), key.id, (f, at) => ({
      finding: {
        ...f,
        evidence: [
          ...f.evidence,
          { kind: 'key_deactivated', ref: 'iam:AKIA…(20):Inactive', at, recordedBy: 'owner', simulated: false },
        ],
      },
      events: [{ actor: 'owner', action: 'evidence.recorded', evidenceRef: 'iam:AKIA…(20):Inactive' }],
    }));
    const resolved = await runner.resume(key, 'owner_signal', { signal: { kind: 'fixed', by: 'owner' } });
    expect(resolved).toMatchObject({ outcome: 'succeeded' });
    const after = (await store.get(key.id))!;
    expect(after.status).toBe('resolved');
    expect(after.lifecycle!.timerAt).toBeUndefined();
    expect(await store.dueTimers('2099-01-01T00:00:00.000Z')).toEqual([]);
    const events = await store.events(key.id);
    expect(events.at(-1)).toMatchObject({
      action: 'finding.resolved',
      to: 'resolved',
      evidenceRef: 'iam:AKIA…(20):Inactive',
    });
    expect(verifyChain(events, { count: after.eventCount, lastHash: after.lastEventHash }).ok).toBe(true);
  });

  it('accepts the risk until the exception ends, then reopens a still-exposed finding with a new due date', async () => {
    const { runner, find, store, clock, actions } = await setup();
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    await runner.start(key);
    const requested = await runner.resume(key, 'owner_signal', {
      signal: { kind: 'exception_requested', by: 'identity-programme' },
    });
    expect(requested).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitExceptionApproval' });
    const until = new Date(T0 + 30 * DAY).toISOString();
    await updateFinding(store, clock, key.id, (f, at) => ({
      finding: {
        ...f,
        exception: {
          requestedBy: 'identity-programme',
          requestedAt: at,
          until,
          reason: 'vendor migration',
          approvedBy: 'alice',
          approvedAt: at,
        },
      },
      events: [{ actor: 'alice', action: 'exception.approved', reason: 'vendor migration' }],
    }));
    const accepted = await runner.resume(key, 'exception_decided', { signal: { decision: 'approved', by: 'alice' } });
    expect(accepted).toMatchObject({ outcome: 'parked', parkedAt: 'AcceptRisk' });
    expect((await store.get(key.id))!).toMatchObject({
      status: 'risk_accepted',
      lifecycle: { timerAt: until, timerKind: 'exception_expiry' },
    });

    clock.advance(30 * DAY);
    const [due] = await store.dueTimers(clock.now().toISOString());
    const expired = await runner.resume(due!, 'exception_expired');
    expect(expired.path).toEqual(['Enter', 'Revalidate', 'StillExposed', 'Reopen', 'AwaitOwnerFix']);
    const after = (await store.get(key.id))!;
    expect(after).toMatchObject({ status: 'reopened', dueAt: new Date(clock.now().getTime() + 2 * DAY).toISOString() });
    expect(after.exception).toBeUndefined();
    expect(await actions(key.id)).toEqual(
      expect.arrayContaining(['risk.accepted', 'exception.expired', 'finding.reopened']),
    );
  });

  it('resumes a parked lifecycle after a restart: a new runner, nothing in memory, state from DynamoDB', async () => {
    const { runner, find, store, clock } = await setup();
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    await runner.start(key);
    // "Restart": a fresh runner over the same table; only DynamoDB remembers the parked wait.
    const afterRestart = new LocalLifecycleRunner({
      store,
      clock,
      policy: DEFAULT_POLICY,
      remediation: remediationNotConfigured,
    });
    clock.advance(3 * DAY);
    const [due] = await store.dueTimers(clock.now().toISOString());
    expect(due?.lifecycle).toMatchObject({ waitingAt: 'AwaitOwnerFix', timerKind: 'sla_breach' });
    await fireDueTimers({ store, clock, policy: DEFAULT_POLICY });
    const owner = await afterRestart.resume((await store.get(key.id))!, 'owner_signal', {
      signal: { kind: 'fixed', by: 'identity-programme' },
    });
    expect(owner).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitOwnerFix' });
    expect(await afterRestart.start((await store.get(key.id))!)).toBeUndefined();
    expect((await store.events(key.id)).map((e) => e.action)).toContain('sla.breached');
  });
});

describe('the SLA clock: from the hub’s first sight, in every wait', () => {
  /** The SLA report's overdue findings at the hub's clock: [id, days overdue, status]. */
  async function overdueInReport(setupResult: Awaited<ReturnType<typeof setup>>) {
    const { table, clock } = setupResult;
    const report = await computeReport('sla', new DynamoReportSource(table), {
      now: clock.now(),
      policy: DEFAULT_POLICY,
    });
    const rows = report.sections.find((s) => s.title === 'Overdue findings')!.rows;
    return {
      overdue: report.summary.find((m) => m.label === 'overdue')!.value,
      rows: rows.map((r) => [r[0], r[4], r[5]]),
    };
  }

  it('ingest at T0, triage at T0 + 60 days: the finding is overdue since T0 + its SLA, and the SLA report counts it', async () => {
    const world = await setup();
    const { runner, find, store, clock, actions } = world;
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    expect(key.firstSeen).toBe(new Date(T0).toISOString());
    clock.advance(60 * DAY);
    await runner.start(key); // its start was lost at ingest; the sweep starts it 60 days later
    const after = (await store.get(key.id))!;
    expect(after.dueAt).toBe(new Date(T0 + 2 * DAY).toISOString()); // critical: 2 days from first seen, not from triage
    const breached = (await store.events(key.id)).find((e) => e.action === 'sla.breached')!;
    expect(breached).toMatchObject({ at: clock.now().toISOString(), data: { dueAt: after.dueAt } });
    expect((await actions(key.id)).indexOf('sla.breached')).toBeLessThan(
      (await actions(key.id)).indexOf('decision.made'),
    );
    expect(await overdueInReport(world)).toEqual({ overdue: 1, rows: [[key.id, 58, 'open']] });
  });

  it('an approval nobody gives breaches at the due date like an unfixed finding, and the SLA report counts it', async () => {
    const needsApproval: RemediationPort = {
      remediate: async () => ({
        remediation: 'needs_approval',
        reason: 'rotating app/ci needs approval by someone holding the approver role',
      }),
    };
    const world = await setup(needsApproval);
    const { runner, find, store, clock, actions } = world;
    const apiKey = await find((f) => f.nhiType === 'api_key');
    await runner.start(apiKey);
    const waiting = (await store.get(apiKey.id))!;
    const dueAt = Date.parse(waiting.dueAt!);
    expect(dueAt).toBe(T0 + DEFAULT_POLICY.slaDays[waiting.severity] * DAY);
    expect(waiting.lifecycle).toMatchObject({
      timerKind: 'approval_timeout',
      timerAt: new Date(T0 + 3 * DAY).toISOString(),
    });
    const timers = { store, clock, policy: DEFAULT_POLICY };
    clock.advance(3 * DAY);
    await fireDueTimers(timers); // nobody decided within 72 h: escalated, still waiting
    clock.advance(dueAt - clock.now().getTime() - 1000);
    await fireDueTimers(timers);
    expect((await actions(apiKey.id)).filter((a) => a === 'sla.breached')).toEqual([]); // not due yet
    clock.advance(1000);
    await fireDueTimers(timers);
    const trail = (await store.events(apiKey.id)).filter((e) => /^(sla|approval)\./.test(e.action));
    expect(trail.map((e) => [e.action, e.at])).toEqual([
      ['sla.started', new Date(T0).toISOString()],
      ['approval.requested', new Date(T0).toISOString()],
      ['approval.timed_out', new Date(T0 + 3 * DAY).toISOString()],
      ['approval.timed_out', new Date(dueAt - 1000).toISOString()], // the next tick, a second before the due date
      ['sla.breached', new Date(dueAt).toISOString()],
    ]);
    expect((await store.get(apiKey.id))!).toMatchObject({
      status: 'awaiting_approval',
      lifecycle: { waitingAt: 'AwaitApproval' },
    });
    clock.advance(DAY);
    expect(await overdueInReport(world)).toEqual({ overdue: 1, rows: [[apiKey.id, 1, 'awaiting_approval']] });
  });
});

describe('clean re-scan of the same scope (owner-fix wait resumed by a later scan)', () => {
  const write = (records: unknown[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'closeloop-rescan-'));
    const file = join(dir, 'gitleaks.json');
    writeFileSync(file, JSON.stringify(records));
    return file;
  };

  it('a later gitleaks scan of the repository that no longer reports a finding records clean_rescan evidence and resolves it; an AWS key needs more and goes back', async () => {
    const { store } = await aFreshStore();
    const clock = movableClock();
    const hasher = aHasher();
    const asset = 'github.com/acme/api';
    const apiKey = aGitleaksRecord({
      Secret: 'tok_3f9a0c1b2d4e5f60718293a4',
      Match: 'API_KEY=tok_3f9a0c1b2d4e5f60718293a4',
    });
    const awsKey = aGitleaksRecord({
      RuleID: 'aws-access-token',
      Secret: 'AKIARESCANTEST000001',
      Match: 'k=AKIARESCANTEST000001',
      StartLine: 20,
      Fingerprint: 'abc123:src/config.ts:aws-access-token:20',
    });
    const still = aGitleaksRecord({
      Secret: 'tok_stillthere00000000000000',
      Match: 'X=tok_stillthere00000000000000',
      StartLine: 30,
      Fingerprint: 'abc123:src/config.ts:generic-api-key:30',
    });
    await ingestReportFiles([write([apiKey, awsKey, still])], { store, clock, hasher, asset });
    // Pre-authorized, but nothing can rotate them here: all three wait for their owner.
    const policy = {
      ...DEFAULT_POLICY,
      preAuthorized: [
        {
          action: 'rotate' as const,
          nhiTypes: ['api_key' as const, 'cloud_access_key' as const],
          severities: [...SEVERITIES],
          onlyWhenActive: false,
        },
      ],
    };
    const { lifecycles: runner, deps } = localDecisions(store, clock, policy);
    for (const f of await store.list()) await runner.start(f);
    expect((await store.list()).map((f) => f.lifecycle?.waitingAt)).toEqual([
      'AwaitOwnerFix',
      'AwaitOwnerFix',
      'AwaitOwnerFix',
    ]);

    // Another repository's scan, or a scan that still reports them, changes nothing.
    const other = await ingestReportFiles([write([])], {
      store,
      clock,
      hasher,
      asset: 'github.com/acme/other',
      format: 'gitleaks',
    });
    expect(await applyCleanRescans(deps, other.scans)).toEqual([]);
    const rescan = await ingestReportFiles([write([still])], { store, clock, hasher, asset });
    expect(rescan.scans).toEqual([expect.objectContaining({ scanner: 'gitleaks', assets: new Set([asset]) })]);
    const applied = await applyCleanRescans(deps, rescan.scans);
    expect(applied).toHaveLength(2);

    const byRule = async (rule: string) =>
      (await store.list()).find((f) => f.sources[0]!.ruleId === rule && f.secretPreview !== 'tok_…(28)')!;
    const api = (await store.list()).find((f) => f.secretPreview === 'tok_…(28)' && f.locations[0]!.line === 10)!;
    expect(api.status).toBe('resolved');
    const apiEvents = await store.events(api.id);
    expect(apiEvents.find((e) => e.action === 'evidence.recorded')).toMatchObject({
      actor: 'scanner:gitleaks',
      evidenceRef: 'scan:gitleaks:gitleaks.json',
    });
    expect(apiEvents.at(-1)).toMatchObject({ action: 'finding.resolved', reason: 'closed on clean rescan' });

    const aws = await byRule('aws-access-token');
    expect(aws).toMatchObject({ status: 'open', lifecycle: { waitingAt: 'AwaitOwnerFix' } });
    expect((await store.events(aws.id)).map((e) => e.action).slice(-2)).toEqual([
      'evidence.recorded',
      'verification.failed',
    ]);
    const stillThere = (await store.list()).find((f) => f.locations[0]!.line === 30)!;
    expect(stillThere.status).toBe('open');
    expect(stillThere.evidence).toEqual([]);

    // Tomorrow's identical scan knows nothing new: the AWS key is not bounced back to its owner again.
    clock.advance(24 * 60 * 60 * 1000);
    const awsEvents = (await store.events(aws.id)).length;
    const tomorrow = await ingestReportFiles([write([still])], { store, clock, hasher, asset });
    expect(await applyCleanRescans(deps, tomorrow.scans)).toEqual([]);
    expect(await store.events(aws.id)).toHaveLength(awsEvents);
  });
});

describe('starting a lifecycle: the claim is the triage', () => {
  it('two hubs starting one generation at once: one runs it, the other writes nothing', async () => {
    const { store, clock, find, actions } = await setup();
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    const hubs = [1, 2].map(
      () => new LocalLifecycleRunner({ store, clock, policy: DEFAULT_POLICY, remediation: remediationNotConfigured }),
    );
    const runs = await Promise.all(hubs.map((hub) => hub.start(key)));
    expect(runs.filter((r) => r !== undefined)).toHaveLength(1);
    const trail = await actions(key.id);
    expect(trail.filter((a) => a === 'lifecycle.started')).toHaveLength(1);
    expect(trail.filter((a) => a === 'owner.assigned')).toHaveLength(1);
    expect(trail.filter((a) => a === 'decision.made')).toHaveLength(1);
    expect(verifyChain(await store.events(key.id)).ok).toBe(true);
    // Started: a third start does nothing at all.
    const before = trail.length;
    expect(await hubs[0]!.start((await store.get(key.id))!)).toBeUndefined();
    expect(await actions(key.id)).toHaveLength(before);
  });
});

describe('recovering a local lifecycle whose hub stopped before its first wait', () => {
  it('resumes a claimed, never-parked lifecycle once, at the phase it reached; a fresh claim or a parked one is left alone', async () => {
    const { runner, find, store, clock, actions } = await setup();
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    // The hub claimed the start and triaged, then died: no wait recorded.
    const tenMinutesAgo = new Date(Date.now() - 10 * 60 * 1000).toISOString();
    await updateFinding(store, clock, key.id, (f) => ({
      finding: { ...f, lifecycle: { startedGeneration: 1, claimedAt: tenMinutesAgo } },
      events: [{ actor: 'closeloop:lifecycle', action: 'lifecycle.started', reason: 'generation 1' }],
    }));
    await runner.run({ findingId: key.id, generation: 1, resumeAt: 'triage' }).then(async () => {
      // …simulate the crash right after triage by clearing what the later steps recorded
      await updateFinding(store, clock, key.id, (f) => ({
        finding: {
          ...f,
          status: 'open',
          lifecycle: { startedGeneration: 1, triagedGeneration: 1, claimedAt: tenMinutesAgo },
        },
        events: [],
      }));
    });

    expect(await runner.start((await store.get(key.id))!)).toBeUndefined(); // already claimed: start does nothing
    const fresh = {
      ...(await store.get(key.id))!,
      lifecycle: { startedGeneration: 1, claimedAt: new Date().toISOString() },
    };
    expect(await runner.recoverStalled(fresh)).toBeUndefined(); // claimed a moment ago: maybe still running

    const recovered = await runner.recoverStalled((await store.get(key.id))!);
    expect(recovered).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitOwnerFix' });
    expect(recovered!.path.slice(0, 2)).toEqual(['Enter', 'Decide']);
    expect(await actions(key.id)).toContain('lifecycle.recovered');
    // Parked now: nothing more to recover, and a second hub's attempt does nothing.
    expect(await runner.recoverStalled((await store.get(key.id))!, 0)).toBeUndefined();
  });
});

describe('owner from resource tags (the second link of the owner chain)', () => {
  /** A fresh table holding the Security Hub sample's IAM-user finding. */
  async function anIamUserFinding() {
    const { store } = await aFreshStore();
    const clock = movableClock();
    await ingestReportFiles([join(__dirname, '..', '..', 'samples', 'securityhub-iam-findings.json')], {
      store,
      clock,
      hasher: aHasher(),
    });
    const [finding] = await store.list();
    return { store, clock, finding: finding! };
  }

  it('a tag it could not read is said on the finding, in the trail and on the ticket, never taken for "no tag"', async () => {
    const { store, clock, finding } = await anIamUserFinding();
    const denied = { ownerTagOf: async () => ({ unreadable: 'AccessDenied from iam:ListUserTags' }) };
    const runner = new LocalLifecycleRunner({
      store,
      clock,
      policy: DEFAULT_POLICY,
      remediation: remediationNotConfigured,
      tags: denied,
    });
    await runner.start(finding!);
    const after = (await store.get(finding!.id))!;
    expect(after).toMatchObject({ ownerVia: 'unowned_queue', ownerTagProblem: 'AccessDenied from iam:ListUserTags' });
    const unresolved = (await store.events(finding!.id)).find((e) => e.action === 'owner.unresolved')!;
    expect(unresolved.reason).toBe(
      `no owner in CMDB or mappings, and the owner tag could not be read (AccessDenied from iam:ListUserTags); escalated to ${DEFAULT_POLICY.escalationContact}`,
    );
    expect(ticketText(unresolved)).toContain(
      "no CMDB owner or configured mapping, and the resource's owner tag could not be read: AccessDenied from iam:ListUserTags",
    );
    const draft = ticketDraft(after, DEFAULT_POLICY);
    expect(JSON.stringify(draft.sections)).toContain(
      "the resource's owner tag could not be read: AccessDenied from iam:ListUserTags",
    );
  });

  it("triage names the owner from the IAM user's owner tag when the CMDB has none, before any configured mapping", async () => {
    const world = aRotationWorld();
    try {
      world.iam.addUser('reporting-batch');
      world.iam.userTags.set('reporting-batch', { Team: 'ignored-later-key', owner: 'team-reporting' });
      const { store, clock, finding } = await anIamUserFinding();
      expect(finding.asset).toMatchObject({
        type: 'aws_resource',
        id: 'arn:aws:iam::123456789012:user/reporting-batch',
      });
      const policy = { ...DEFAULT_POLICY, ownerMappings: [{ asset: '123456789012', owner: 'team-data-platform' }] };
      const tags = awsResourceTags({ iam: world.iamClient, secretsManager: world.secretsManager }, policy.ownerTagKeys);
      const runner = new LocalLifecycleRunner({ store, clock, policy, remediation: remediationNotConfigured, tags });
      await runner.start(finding!);
      expect((await store.get(finding!.id))!).toMatchObject({ owner: 'team-reporting', ownerVia: 'tags' });
      expect((await store.events(finding!.id)).find((e) => e.action === 'owner.assigned')).toMatchObject({
        to: 'team-reporting',
        reason: 'owner from tags',
      });
      // An untagged user falls through to the mapping.
      world.iam.userTags.set('reporting-batch', {});
      expect(await tags.ownerTagOf(finding!.asset)).toBeUndefined();
      expect(
        await tags.ownerTagOf({ type: 'aws_resource', id: 'arn:aws:iam::123456789012:user/nobody' }),
      ).toBeUndefined();
    } finally {
      world.restore();
    }
  });
});
