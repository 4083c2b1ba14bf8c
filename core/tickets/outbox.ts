import type { AuditEvent } from '../audit/chain';
import { redactText } from '../shared/redaction';
import type { TicketOp, TicketWork } from './model';

/** Which audit actions reach the finding's ticket, and as what. Others stay in the audit trail only. */
const OPS: Readonly<Record<string, TicketOp>> = {
  'owner.assigned': 'create',
  'owner.unresolved': 'comment',
  'approval.requested': 'comment',
  'approval.granted': 'comment',
  'approval.rejected': 'comment',
  'approval.timed_out': 'escalate',
  'remediation.started': 'comment',
  'remediation.needs_approval': 'comment',
  'remediation.completed': 'comment',
  'key.contained': 'comment',
  'key.deactivated': 'comment',
  'remediation.failed': 'comment',
  'remediation.unavailable': 'comment',
  'sla.breached': 'escalate',
  'sla.escalated': 'escalate',
  'evidence.recorded': 'comment',
  'evidence.verified': 'comment',
  'verification.failed': 'comment',
  'exception.requested': 'comment',
  'exception.approved': 'comment',
  'exception.rejected': 'comment',
  'risk.accepted': 'comment',
  'exception.expired': 'comment',
  'finding.reopened': 'reopen',
  'finding.resolved': 'close',
  'finding.false_positive': 'close',
};

/** Ticket text for an event: what happened, who did it, why. User-typed reasons are redacted. */
export function ticketText(event: Pick<AuditEvent, 'action' | 'actor' | 'reason' | 'evidenceRef' | 'to'>): string {
  const parts = [`${event.action}${event.to ? ` → ${event.to}` : ''} by ${event.actor}`];
  if (event.reason) parts.push(event.reason);
  if (event.evidenceRef) parts.push(`evidence: ${event.evidenceRef}`);
  return redactText(parts.join('. ')).slice(0, 2000);
}

/**
 * The ticket work a set of new audit events causes. Written with the events in one
 * transaction, so a transition and its ticket work are recorded together or not at all.
 */
export function ticketWorkFor(events: AuditEvent[]): TicketWork[] {
  const work: TicketWork[] = [];
  for (const event of events) {
    const op = OPS[event.action];
    if (!op) continue;
    work.push({
      findingId: event.findingId,
      seq: event.seq,
      op,
      text: ticketText(event),
      action: event.action,
      actor: event.actor,
      createdAt: event.at,
      attempts: 0,
    });
  }
  return work;
}
