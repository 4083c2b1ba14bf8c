import { z } from 'zod';

/**
 * Every action an audit event can record, by what it is about. A new action goes here, and the
 * compiler then asks what it does to the finding's ticket (core/tickets/outbox.ts).
 */
export const AUDIT_ACTIONS = [
  // ingest
  'finding.created',
  'finding.updated',
  'source.added',
  'source.state_changed',
  // scanners: an alert resolved there (webhook, pull), and the outcome written back to it
  'source.resolved',
  'source.written_back',
  // lifecycle
  'lifecycle.started',
  'lifecycle.recovered',
  'lifecycle.failed',
  'owner.assigned',
  'owner.unresolved',
  'sla.started',
  'sla.breached',
  'sla.escalated',
  'decision.made',
  'approval.requested',
  'approval.granted',
  'approval.rejected',
  'approval.timed_out',
  'remediation.assigned',
  'evidence.recorded',
  'evidence.verified',
  'verification.failed',
  'exception.requested',
  'exception.approved',
  'exception.rejected',
  'exception.expired',
  'risk.accepted',
  'finding.reopened',
  'finding.resolved',
  'finding.false_positive',
  'false_positive.claimed',
  'false_positive.rejected',
  'decision.refused',
  // remediation (the rotation machine)
  'remediation.started',
  'remediation.needs_approval',
  'remediation.unavailable',
  'remediation.completed',
  'remediation.failed',
  'key.contained',
  'key.quarantined',
  'key.quarantine_lifted',
  'key.deactivated',
  'key.deleted',
  // managed secrets (scheduled rotations and retirements)
  'rotation.succeeded',
  'rotation.failed',
  'rotation.abandoned',
  'rotation.verified',
  // tickets
  'ticket.created',
  'ticket.commented',
] as const;
export const AuditActionSchema = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof AuditActionSchema>;

const KNOWN: ReadonlySet<string> = new Set(AUDIT_ACTIONS);

/** Whether a stored event's action is one this version of closeloop writes. */
export const isAuditAction = (action: string): action is AuditAction => KNOWN.has(action);
