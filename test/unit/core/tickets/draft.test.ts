import { createFinding } from '@core/finding/merge';
import type { Finding } from '@core/finding/model';
import { DEFAULT_POLICY } from '@core/policy/policy';
import { awaitedDecision, ticketDraft } from '@core/tickets/draft';
import type { TicketWork } from '@core/tickets/model';
import { anObservation } from '@test/support/factories';

const at = '2026-11-01T09:00:00.000Z';
const aFinding = (overrides: Partial<Finding> = {}): Finding => ({
  ...createFinding(anObservation({ severity: 'high' }), new Date(at), 't').finding,
  owner: 'identity-programme',
  ownerVia: 'unowned_queue',
  dueAt: '2026-11-08T09:00:00.000Z',
  ...overrides,
});
const work = (seq: number, action: string, op: TicketWork['op'], text: string): TicketWork => ({
  findingId: aFinding().id,
  seq,
  op,
  action,
  text,
  actor: 'closeloop:lifecycle',
  createdAt: at,
  attempts: 0,
});
const section = (draft: ReturnType<typeof ticketDraft>, heading: string) =>
  draft.sections.find((s) => s.heading === heading)?.lines;

describe('the ticket a finding is created with', () => {
  it('says who owns it, or that nobody could be matched and which queue holds it', () => {
    expect(section(ticketDraft(aFinding(), DEFAULT_POLICY), 'Owner and due date')![0]).toBe(
      'Unassigned: the owner could not be matched (no CMDB owner, resource tag or configured mapping), so it is in the identity-programme queue; identity-programme was told.',
    );
    expect(ticketDraft(aFinding(), DEFAULT_POLICY).unowned).toBe(true);
    const owned = ticketDraft(aFinding({ owner: 'team-payments', ownerVia: 'mapping' }), DEFAULT_POLICY);
    expect(section(owned, 'Owner and due date')![0]).toBe('Owner: team-payments (from mapping).');
    expect(owned.unowned).toBe(false);
  });

  it('says which decision it waits for and which role may take it', () => {
    const lifecycle = (waitingAt: NonNullable<Finding['lifecycle']>['waitingAt']) => ({
      lifecycle: { startedGeneration: 1, ...(waitingAt ? { waitingAt } : {}) },
    });
    expect(awaitedDecision(aFinding(lifecycle('AwaitApproval')), DEFAULT_POLICY)).toEqual({
      kind: 'approval',
      role: 'approver',
      deciders: [],
      text: 'Waiting for a decision: approve or reject the automated rotation. Someone holding the "approver" role decides.',
    });
    const exception = {
      requestedBy: 'team-payments',
      requestedAt: at,
      until: '2026-12-20T00:00:00.000Z',
      reason: 'vendor migration',
    };
    expect(
      awaitedDecision(
        aFinding({ ...lifecycle('AwaitExceptionApproval'), severity: 'critical', exception }),
        DEFAULT_POLICY,
      ),
    ).toEqual({
      kind: 'exception',
      role: 'security-lead',
      deciders: [],
      text: 'Waiting for a decision: accept the risk until 2026-12-20 as team-payments asked, or reject that. Someone holding the "security-lead" role decides, never the owner or the requester.',
    });
    // An exception asked for while the rotation awaits approval: the approver sees both options.
    expect(awaitedDecision(aFinding({ ...lifecycle('AwaitApproval'), exception }), DEFAULT_POLICY).text).toBe(
      'Waiting for a decision: approve or reject the automated rotation, or accept the risk until 2026-12-20 as team-payments asked, or reject that. Someone holding the "approver" role decides (never the owner or the requester for the exception).',
    );
    expect(awaitedDecision(aFinding(lifecycle('AwaitOwnerFix')), DEFAULT_POLICY)).toMatchObject({ kind: 'owner_fix' });
    // A false-positive claim: an approver decides, never the owner or the claimant; the approvers bound to Jira are named.
    const claimed = aFinding({
      ...lifecycle('AwaitOwnerFix'),
      falsePositiveClaim: { claimedBy: 'team-payments', claimedAt: at, reason: 'a test fixture' },
    });
    const policy = {
      ...DEFAULT_POLICY,
      principals: [{ name: 'alice', roles: ['approver'], identities: [{ jira: '712020:alice' }] }],
    };
    expect(awaitedDecision(claimed, policy)).toEqual({
      kind: 'false_positive',
      role: 'approver',
      deciders: [{ name: 'alice', jira: ['712020:alice'], servicenow: [] }],
      text: 'Waiting for a decision: team-payments says this is a false positive (a test fixture). Someone holding the "approver" role confirms or rejects it, never the owner or the claimant.',
    });
    const draft = ticketDraft(aFinding(lifecycle('AwaitApproval')), DEFAULT_POLICY);
    expect(section(draft, 'Decision awaited')).toEqual([draft.awaiting.text]);
  });

  it('tells what happened before it existed instead of comments, without repeating its own sections, and starts escalated when it was', () => {
    const folded = [
      work(1, 'owner.assigned', 'create', 'owner'),
      work(2, 'owner.unresolved', 'comment', 'Unassigned: …'),
      work(
        4,
        'remediation.unavailable',
        'comment',
        'No automated remediation: rotation not configured; the owner fixes it.',
      ),
      work(6, 'approval.requested', 'comment', 'Waiting for a decision: …'),
    ];
    const draft = ticketDraft(aFinding(), DEFAULT_POLICY, folded);
    expect(section(draft, 'So far')).toEqual([
      '2026-11-01 09:00 UTC: No automated remediation: rotation not configured; the owner fixes it.',
    ]);
    expect(draft.escalated).toBe(false);
    expect(
      ticketDraft(aFinding(), DEFAULT_POLICY, [...folded, work(7, 'sla.breached', 'escalate', 'Overdue')]).escalated,
    ).toBe(true);
    expect(section(ticketDraft(aFinding(), DEFAULT_POLICY), 'So far')).toBeUndefined();
  });
});
