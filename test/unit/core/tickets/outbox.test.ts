import { AUDIT_ACTIONS } from '@core/audit/actions';
import { AuditEventSchema, GENESIS_HASH, chainEvents, type AuditEventDraft } from '@core/audit/chain';
import { TICKET_OPS, ticketText, ticketWorkFor } from '@core/tickets/outbox';

const at = '2026-11-01T00:00:00.000Z';
const chained = (...drafts: AuditEventDraft[]) =>
  chainEvents('NHI-0000000000000001', { count: 0, lastHash: GENESIS_HASH }, drafts);

describe('audit actions and the ticket outbox', () => {
  it('names every audit action as a dotted verb the event schema reads', () => {
    for (const action of AUDIT_ACTIONS) {
      expect(AuditEventSchema.shape.action.safeParse(action).success).toBe(true);
    }
  });

  it('decides for every audit action what it does to the ticket', () => {
    expect(Object.keys(TICKET_OPS).sort()).toEqual([...AUDIT_ACTIONS].sort());
  });

  it('turns the events that reach a ticket into work, in order, and keeps the rest in the audit trail only', () => {
    const events = chained(
      { at, actor: 'closeloop:lifecycle', action: 'owner.assigned', to: 'team-a' },
      { at, actor: 'closeloop:lifecycle', action: 'sla.started', to: at },
      { at, actor: 'closeloop:lifecycle', action: 'sla.breached', reason: 'overdue' },
    );
    expect(ticketWorkFor(events).map((w) => [w.seq, w.action, w.op])).toEqual([
      [1, 'owner.assigned', 'create'],
      [3, 'sla.breached', 'escalate'],
    ]);
  });

  it('gives no ticket work for an action this version does not write (an event stored by another version)', () => {
    const [event] = chained({ at, actor: 'closeloop:lifecycle', action: 'owner.assigned' });
    expect(ticketWorkFor([{ ...event!, action: 'owner.transferred' }])).toEqual([]);
  });

  it('refuses a misspelt action at compile time', () => {
    const typo: AuditEventDraft = {
      at,
      actor: 'closeloop:lifecycle',
      // @ts-expect-error "owner.asigned" is not an AuditAction: the typo fails `npm run typecheck`
      action: 'owner.asigned',
    };
    expect(typo.action).toBe('owner.asigned');
  });

  it('writes a sentence for every action that reaches a ticket, never the machine form', () => {
    for (const action of AUDIT_ACTIONS) {
      if (!TICKET_OPS[action] || TICKET_OPS[action] === 'create') continue;
      const text = ticketText({ action, actor: 'closeloop:lifecycle', reason: 'why', data: {} });
      expect({ action, text }).toEqual({ action, text: expect.not.stringContaining(action) });
      expect(text).not.toMatch(/closeloop:lifecycle|\.\.$|closeloop: closeloop/);
    }
    expect(
      ticketText({
        action: 'approval.requested',
        actor: 'closeloop:lifecycle',
        reason: 'rotation awaits approval',
        data: { requiredRole: 'approver', timeoutAt: '2026-11-04T09:00:00.000Z' },
      }),
    ).toBe(
      'Waiting for a decision: the automated rotation needs approval by someone holding the "approver" role (it escalates on 2026-11-04 if nobody decides).',
    );
    expect(
      ticketText({
        action: 'sla.breached',
        actor: 'closeloop:lifecycle',
        data: { dueAt: '2026-11-08T09:00:00.000Z', escalatedTo: 'identity-programme' },
      }),
    ).toBe('Overdue: it was due 2026-11-08; escalated to identity-programme.');
    expect(ticketText({ action: 'approval.granted', actor: 'bob', reason: 'rotate it tonight', data: {} })).toBe(
      'Rotation approved by bob: rotate it tonight.',
    );
  });
});
