import { verifyChain } from '@core/audit';
import type { Clock } from '@core/clock';
import { remediationNotConfigured, type RemediationPort } from '@core/lifecycle/ports';
import { updateFinding } from '@core/lifecycle/update';
import { DEFAULT_POLICY } from '@core/policy';
import type { Finding } from '@core/model';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { LocalLifecycleRunner } from '@local/lifecycle-runner';
import { fixturePath } from '@test/support/fixtures';
import { aHasher } from '@test/support/factories';
import { aFreshStore } from '@test/support/dynamo';

const T0 = Date.parse('2026-11-01T09:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;

/** A clock the test moves forward, like CLOSELOOP_NOW between commands. */
function movableClock(): Clock & { advance(ms: number): void } {
  let now = T0;
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

async function setup(remediation: RemediationPort = remediationNotConfigured) {
  const { store } = await aFreshStore();
  const clock = movableClock();
  await ingestReportFiles([fixturePath('scanners', 'trufflehog', 'defectdojo-v3_git.jsonl'), fixturePath('scanners', 'gitleaks', 'secobserve-gitleaks.git.json')], { store, clock, hasher: aHasher() });
  const runner = new LocalLifecycleRunner({ store, clock, policy: DEFAULT_POLICY, remediation });
  const find = async (predicate: (f: Finding) => boolean) => (await store.list()).find(predicate)!;
  const actions = async (id: string) => (await store.events(id)).map((e) => e.action);
  return { store, clock, runner, find, actions };
}

describe('local finding lifecycle (DynamoDB Local, aws-local-stepfunctions)', () => {
  it('triages a verified AWS key, falls back to the owner when rotation is not configured, and parks', async () => {
    const { runner, find, actions, store } = await setup();
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    const run = await runner.start(key);
    expect(run).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitOwnerFix', path: ['Enter', 'Triage', 'Decide', 'Route', 'Remediate', 'RemediationOutcome', 'AwaitOwnerFix'] });
    const after = (await store.get(key.id))!;
    expect(after).toMatchObject({ status: 'open', owner: 'identity-programme', ownerVia: 'unowned_queue', dueAt: new Date(T0 + 2 * DAY).toISOString() });
    expect(after.lifecycle).toMatchObject({ startedGeneration: 1, waitingAt: 'AwaitOwnerFix', timerAt: after.dueAt, timerKind: 'sla_breach' });
    expect((await actions(key.id)).slice(1)).toEqual(['lifecycle.started', 'owner.assigned', 'sla.started', 'owner.unresolved', 'decision.made', 'remediation.assigned']);
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

  it('escalates at the due date, then again at the cadence while overdue', async () => {
    const { runner, find, actions, store, clock } = await setup();
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    await runner.start(key);
    expect(await store.dueTimers(new Date(T0 + DAY).toISOString())).toEqual([]);
    clock.advance(2 * DAY + 1000);
    const [due] = await store.dueTimers(clock.now().toISOString());
    expect(due!.id).toBe(key.id);
    const run = await runner.resume(due!, 'sla_breached');
    expect(run.path).toEqual(['Enter', 'EscalateOverdue', 'AwaitOwnerFix']);
    clock.advance(2 * DAY + 1000);
    await runner.resume((await store.get(key.id))!, 'sla_breached');
    const trail = await actions(key.id);
    expect(trail.filter((a) => a.startsWith('sla.'))).toEqual(['sla.started', 'sla.breached', 'sla.escalated']);
    expect((await store.get(key.id))!.lifecycle!.timerAt).toBe(new Date(clock.now().getTime() + 2 * DAY).toISOString());
  });

  it('asks for approval when rotation is not pre-authorized; a rejection sends it to the owner', async () => {
    const { runner, find, store } = await setup();
    // An unverified generic API key: rotatable, but the default policy pre-authorizes only active ones.
    const apiKey = await find((f) => f.nhiType === 'api_key');
    expect(await runner.start(apiKey)).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitApproval' });
    expect((await store.get(apiKey.id))!).toMatchObject({ status: 'awaiting_approval', lifecycle: { timerKind: 'approval_timeout' } });
    const rejected = await runner.resume(apiKey, 'approval_decided', { signal: { decision: 'rejected', by: 'alice' } });
    expect(rejected.path).toEqual(['Enter', 'ApprovalDecided', 'AwaitOwnerFix']);
    expect((await store.get(apiKey.id))!.status).toBe('open');
  });

  it('bounces "done" without evidence, then resolves on a rotation record', async () => {
    const { runner, find, store, actions } = await setup();
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    await runner.start(key);
    const bounced = await runner.resume(key, 'owner_signal', { signal: { kind: 'fixed', by: 'owner' } });
    expect(bounced.path).toEqual(['Enter', 'OwnerSignal', 'Verify', 'Verified', 'AwaitOwnerFix']);
    expect(await actions(key.id)).toContain('verification.failed');
    await updateFinding(store, movableClock(), key.id, (f, at) => ({
      finding: { ...f, evidence: [...f.evidence, { kind: 'key_deactivated', ref: 'iam:AKIA…(20):Inactive', at, recordedBy: 'owner', simulated: false }] },
      events: [{ actor: 'owner', action: 'evidence.recorded', evidenceRef: 'iam:AKIA…(20):Inactive' }],
    }));
    const resolved = await runner.resume(key, 'owner_signal', { signal: { kind: 'fixed', by: 'owner' } });
    expect(resolved).toMatchObject({ outcome: 'succeeded' });
    const after = (await store.get(key.id))!;
    expect(after.status).toBe('resolved');
    expect(after.lifecycle!.timerAt).toBeUndefined();
    expect(await store.dueTimers('2099-01-01T00:00:00.000Z')).toEqual([]);
    const events = await store.events(key.id);
    expect(events.at(-1)).toMatchObject({ action: 'finding.resolved', to: 'resolved', evidenceRef: 'iam:AKIA…(20):Inactive' });
    expect(verifyChain(events, { count: after.eventCount, lastHash: after.lastEventHash }).ok).toBe(true);
  });

  it('accepts the risk until the exception ends, then reopens a still-exposed finding with a new due date', async () => {
    const { runner, find, store, clock, actions } = await setup();
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    await runner.start(key);
    const requested = await runner.resume(key, 'owner_signal', { signal: { kind: 'exception_requested', by: 'identity-programme' } });
    expect(requested).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitExceptionApproval' });
    const until = new Date(T0 + 30 * DAY).toISOString();
    await updateFinding(store, clock, key.id, (f, at) => ({
      finding: { ...f, exception: { requestedBy: 'identity-programme', requestedAt: at, until, reason: 'vendor migration', approvedBy: 'alice', approvedAt: at } },
      events: [{ actor: 'alice', action: 'exception.approved', reason: 'vendor migration' }],
    }));
    const accepted = await runner.resume(key, 'exception_decided', { signal: { decision: 'approved', by: 'alice' } });
    expect(accepted).toMatchObject({ outcome: 'parked', parkedAt: 'AcceptRisk' });
    expect((await store.get(key.id))!).toMatchObject({ status: 'risk_accepted', lifecycle: { timerAt: until, timerKind: 'exception_expiry' } });

    clock.advance(30 * DAY);
    const [due] = await store.dueTimers(clock.now().toISOString());
    const expired = await runner.resume(due!, 'exception_expired');
    expect(expired.path).toEqual(['Enter', 'Revalidate', 'StillExposed', 'Reopen', 'AwaitOwnerFix']);
    const after = (await store.get(key.id))!;
    expect(after).toMatchObject({ status: 'reopened', dueAt: new Date(clock.now().getTime() + 2 * DAY).toISOString() });
    expect(after.exception).toBeUndefined();
    expect(await actions(key.id)).toEqual(expect.arrayContaining(['risk.accepted', 'exception.expired', 'finding.reopened']));
  });

  it('resumes a parked lifecycle after a restart: a new runner, nothing in memory, state from DynamoDB', async () => {
    const { runner, find, store, clock } = await setup();
    const key = await find((f) => f.nhiType === 'cloud_access_key');
    await runner.start(key);
    // "Restart": a fresh runner over the same table; only DynamoDB remembers the parked wait.
    const afterRestart = new LocalLifecycleRunner({ store, clock, policy: DEFAULT_POLICY, remediation: remediationNotConfigured });
    clock.advance(3 * DAY);
    const [due] = await store.dueTimers(clock.now().toISOString());
    expect(due?.lifecycle).toMatchObject({ waitingAt: 'AwaitOwnerFix', timerKind: 'sla_breach' });
    expect(await afterRestart.resume(due!, 'sla_breached')).toMatchObject({ outcome: 'parked', parkedAt: 'AwaitOwnerFix' });
    expect(await afterRestart.start((await store.get(key.id))!)).toBeUndefined();
  });
});

