import { isAuditAction, type AuditAction } from '../audit/actions';
import type { AuditEvent } from '../audit/chain';
import { redactText } from '../shared/redaction';
import type { TicketOp, TicketWork } from './model';

/**
 * What each audit action does to the finding's ticket; `null`: it stays in the audit trail only.
 * Exhaustive, so a new action cannot be added without deciding this.
 */
export const TICKET_OPS: Readonly<Record<AuditAction, TicketOp | null>> = {
  'finding.created': null,
  'finding.updated': null,
  'source.added': null,
  'source.state_changed': null,
  'lifecycle.started': null,
  'lifecycle.recovered': null,
  'lifecycle.failed': null,
  'owner.assigned': 'create',
  'owner.unresolved': 'comment',
  'sla.started': null,
  'sla.breached': 'escalate',
  'sla.escalated': 'escalate',
  'decision.made': null,
  'approval.requested': 'comment',
  'approval.granted': 'comment',
  'approval.rejected': 'comment',
  'approval.timed_out': 'escalate',
  'remediation.assigned': null,
  'evidence.recorded': 'comment',
  'evidence.verified': 'comment',
  'verification.failed': 'comment',
  'exception.requested': 'comment',
  'exception.approved': 'comment',
  'exception.rejected': 'comment',
  'exception.expired': 'comment',
  'risk.accepted': 'comment',
  'finding.reopened': 'reopen',
  'finding.resolved': 'close',
  'finding.false_positive': 'close',
  'remediation.started': 'comment',
  'remediation.needs_approval': 'comment',
  'remediation.unavailable': 'comment',
  'remediation.completed': 'comment',
  'remediation.failed': 'comment',
  'key.contained': 'comment',
  'key.quarantined': 'comment',
  'key.quarantine_lifted': 'comment',
  'key.deactivated': 'comment',
  'key.deleted': null,
  'rotation.succeeded': null,
  'rotation.failed': null,
  'rotation.abandoned': null,
  'rotation.verified': null,
  'ticket.created': null,
  'ticket.commented': null,
};

/** The ticket op of a stored event's action (`null` for one this version does not know). */
export const ticketOpFor = (action: string): TicketOp | null => (isAuditAction(action) ? TICKET_OPS[action] : null);

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
    const op = ticketOpFor(event.action);
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
