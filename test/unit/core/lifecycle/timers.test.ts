import { createFinding } from '@core/finding/merge';
import type { Finding } from '@core/finding/model';
import { escalate, fireDueTimers, nextTimer } from '@core/lifecycle/timers';
import { DEFAULT_POLICY } from '@core/policy/policy';
import { fixedClock } from '@core/shared/clock';
import { anObservation } from '@test/support/factories';
import { aMemoryStore } from '@test/support/memory-store';

const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const DAY = 86_400_000;
const at = (days: number) => new Date(T0 + days * DAY).toISOString();

/** A triaged high finding (due in 7 days) waiting at `waitingAt`. */
const aWaitingFinding = (overrides: Partial<Finding> = {}, lifecycle: Partial<Finding['lifecycle']> = {}): Finding => {
  const f = createFinding(anObservation({ severity: 'high' }), new Date(T0), 't').finding;
  return {
    ...f,
    owner: 'team-a',
    dueAt: at(7),
    ...overrides,
    lifecycle: { startedGeneration: 1, triagedGeneration: 1, waitingAt: 'AwaitOwnerFix', ...lifecycle },
  };
};

describe('lifecycle timers', () => {
  it('the SLA timer runs in every wait that is not a resolution, and while remediating', () => {
    for (const waitingAt of ['AwaitOwnerFix', 'AwaitApproval', 'AwaitExceptionApproval'] as const)
      expect(nextTimer(aWaitingFinding({}, { waitingAt }), DEFAULT_POLICY)).toEqual({ at: at(7), kind: 'sla_breach' });
    expect(nextTimer(aWaitingFinding({ status: 'remediating' }, { waitingAt: undefined }), DEFAULT_POLICY)).toEqual({
      at: at(7),
      kind: 'sla_breach',
    });
  });

  it('an approver’s wait escalates at its approval due date when that comes first', () => {
    const f = aWaitingFinding({ status: 'awaiting_approval' }, { waitingAt: 'AwaitApproval', approvalDueAt: at(3) });
    expect(nextTimer(f, DEFAULT_POLICY)).toEqual({ at: at(3), kind: 'approval_timeout' });
    const later = aWaitingFinding({}, { waitingAt: 'AwaitExceptionApproval', approvalDueAt: at(9) });
    expect(nextTimer(later, DEFAULT_POLICY)).toEqual({ at: at(7), kind: 'sla_breach' });
  });

  it('stops for an accepted risk (until its end) and for a closed finding', () => {
    const accepted = aWaitingFinding(
      {
        status: 'risk_accepted',
        exception: { requestedBy: 'team-a', requestedAt: at(0), until: at(30), reason: 'r', approvedBy: 'alice' },
      },
      { waitingAt: 'ExceptionWait' },
    );
    expect(nextTimer(accepted, DEFAULT_POLICY)).toEqual({ at: at(30), kind: 'exception_expiry' });
    expect(
      nextTimer(aWaitingFinding({ status: 'resolved' }, { waitingAt: undefined }), DEFAULT_POLICY),
    ).toBeUndefined();
  });

  it('fires the breach once, then escalations every cadence, in an exception-decision wait too', () => {
    const f = aWaitingFinding({}, { waitingAt: 'AwaitExceptionApproval', approvalDueAt: at(30) });
    expect(escalate(f, at(6), DEFAULT_POLICY).events).toEqual([]);
    const breached = escalate(f, at(7), DEFAULT_POLICY);
    expect(breached.events.map((e) => e.action)).toEqual(['sla.breached']);
    expect(breached.events[0]!.reason).toBe(
      `high finding due ${at(7)} is overdue while it waits for an exception decision; escalated to identity-programme, again every 2 days`,
    );
    expect(breached.finding.lifecycle).toMatchObject({
      lastEscalatedAt: at(7),
      timerAt: at(9),
      timerKind: 'sla_breach',
    });
    expect(escalate(breached.finding, at(9), DEFAULT_POLICY).events.map((e) => e.action)).toEqual(['sla.escalated']);
  });

  it('fires every due timer from the store at the hub’s clock, without touching what is not due', async () => {
    const overdue = aWaitingFinding({}, { timerAt: at(7), timerKind: 'sla_breach' });
    const notYet = aWaitingFinding(
      { id: 'NHI-00000000000000AB', dueAt: at(20) },
      { timerAt: at(20), timerKind: 'sla_breach' },
    );
    const store = aMemoryStore([overdue, notYet]);
    const fired = await fireDueTimers({ store, clock: fixedClock(at(8)), policy: DEFAULT_POLICY });
    expect(fired).toEqual({ escalated: [{ id: overdue.id, actions: ['sla.breached'] }], expired: [] });
    expect((await store.get(notYet.id))!.version).toBe(notYet.version);
    expect((await store.get(overdue.id))!.lifecycle).toMatchObject({ timerAt: at(10), lastEscalatedAt: at(8) });
  });
});
