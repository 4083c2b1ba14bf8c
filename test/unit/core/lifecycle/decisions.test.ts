import { createFinding } from '@core/finding/merge';
import type { Finding } from '@core/finding/model';
import { decideApproval, decideException, requestException, type DecisionDeps } from '@core/lifecycle/decisions';
import type { ResumeAt, Signal } from '@core/lifecycle/state';
import { DEFAULT_POLICY, withApprovers } from '@core/policy/policy';
import { fixedClock } from '@core/shared/clock';
import { anObservation } from '@test/support/factories';
import { aMemoryStore } from '@test/support/memory-store';

const NOW = '2026-11-02T00:00:00.000Z';
const policy = withApprovers(DEFAULT_POLICY, ['alice']);

/** A high finding owned by team-a, waiting for a remediation approval. */
function awaitingApproval(): Finding {
  const f = createFinding(anObservation({ severity: 'high' }), new Date('2026-11-01T00:00:00Z'), 't').finding;
  return {
    ...f,
    status: 'awaiting_approval',
    owner: 'team-a',
    dueAt: '2026-11-08T00:00:00.000Z',
    lifecycle: { startedGeneration: 1, waitingAt: 'AwaitApproval', approvalDueAt: '2026-11-04T00:00:00.000Z' },
  };
}

function world(finding: Finding) {
  const store = aMemoryStore([finding]);
  const signals: Array<[ResumeAt, Signal]> = [];
  const deps: DecisionDeps = {
    store,
    clock: fixedClock(NOW),
    policy,
    signaller: { signal: async (_f, resumeAt, signal) => (signals.push([resumeAt, signal]), 'resumed') },
  };
  const actions = async () => (await store.events(finding.id)).map((e) => e.action);
  return { store, signals, deps, actions };
}

const until = new Date('2026-12-01T00:00:00.000Z');

describe('an exception requested while a remediation approval waits', () => {
  it('joins the approval wait: nothing is resumed, and the approver may then decide either', async () => {
    const finding = awaitingApproval();
    const { deps, signals, store, actions } = world(finding);
    const out = await requestException(deps, { id: finding.id, by: 'team-a', until, reason: 'vendor migration' });
    expect(out).toBe(
      `exception requested until 2026-12-01; ${finding.id}: waiting at AwaitApproval for a approver to decide the remediation or this exception`,
    );
    expect(signals).toEqual([]);
    expect((await store.get(finding.id))!.exception).toMatchObject({
      requestedBy: 'team-a',
      until: until.toISOString(),
    });
    expect(await actions()).toEqual(['exception.requested']);
  });

  it('is refused while another exception request waits for its decision', async () => {
    const finding = awaitingApproval();
    const { deps } = world(finding);
    await requestException(deps, { id: finding.id, by: 'team-a', until, reason: 'vendor migration' });
    await expect(requestException(deps, { id: finding.id, by: 'team-a', until, reason: 'again' })).rejects.toThrow(
      `${finding.id} already has an exception request until 2026-12-01 waiting for its decision`,
    );
  });

  it('approved by the approver: the approval wait takes it as an exception decision', async () => {
    const finding = awaitingApproval();
    const { deps, signals, store } = world(finding);
    await requestException(deps, { id: finding.id, by: 'team-a', until, reason: 'vendor migration' });
    await decideException(deps, { id: finding.id, by: 'alice', decision: 'approved' });
    expect(signals).toEqual([['approval_decided', { decision: 'approved', subject: 'exception', by: 'alice' }]]);
    expect((await store.get(finding.id))!.exception).toMatchObject({ approvedBy: 'alice' });
  });

  it('never by the owner who asked for it', async () => {
    const finding = awaitingApproval();
    const { deps } = world(finding);
    await requestException(deps, { id: finding.id, by: 'team-a', until, reason: 'vendor migration' });
    await expect(decideException(deps, { id: finding.id, by: 'team-a', decision: 'approved' })).rejects.toThrow(
      'separation of duties: team-a requested this exception and cannot approve it',
    );
  });

  it('the remediation approved instead: the request is superseded, recorded as rejected', async () => {
    const finding = awaitingApproval();
    const { deps, signals, store, actions } = world(finding);
    await requestException(deps, { id: finding.id, by: 'team-a', until, reason: 'vendor migration' });
    await decideApproval(deps, { id: finding.id, by: 'alice', decision: 'approved' });
    expect(signals).toEqual([['approval_decided', { decision: 'approved', subject: 'remediation', by: 'alice' }]]);
    expect((await store.get(finding.id))!.exception).toBeUndefined();
    expect(await actions()).toEqual(['exception.requested', 'approval.granted', 'exception.rejected']);
    expect((await store.events(finding.id)).at(-1)!.reason).toBe('superseded: alice approved the remediation instead');
  });

  it('the remediation rejected: the exception still waits for its decision', async () => {
    const finding = awaitingApproval();
    const { deps, signals } = world(finding);
    await requestException(deps, { id: finding.id, by: 'team-a', until, reason: 'vendor migration' });
    await decideApproval(deps, { id: finding.id, by: 'alice', decision: 'rejected' });
    expect(signals).toEqual([
      ['approval_decided', { decision: 'rejected', subject: 'remediation', by: 'alice', exceptionPending: true }],
    ]);
  });

  it('an exception decision is refused while only a remediation approval waits', async () => {
    const finding = awaitingApproval();
    const { deps } = world(finding);
    await expect(decideException(deps, { id: finding.id, by: 'alice', decision: 'approved' })).rejects.toThrow(
      `${finding.id} is not waiting for an exception decision (status awaiting_approval, waiting at AwaitApproval for a remediation approval)`,
    );
  });
});
