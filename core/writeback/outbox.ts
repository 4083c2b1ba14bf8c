import { isAuditAction, type AuditAction } from '../audit/actions';
import type { AuditEvent } from '../audit/chain';
import type { Finding } from '../finding/model';
import { redactText } from '../shared/redaction';
import { writebackTargets, type WritebackOp, type WritebackWork } from './model';

/**
 * What each audit action tells the scanners that reported the finding; `null`: nothing. Exhaustive,
 * so a new action cannot be added without deciding this (as TICKET_OPS does for tickets).
 */
export const WRITEBACK_OPS: Readonly<Record<AuditAction, WritebackOp | null>> = {
  'finding.created': null,
  'finding.updated': null,
  'source.added': null,
  'source.state_changed': null,
  'source.resolved': null,
  'source.written_back': null,
  'lifecycle.started': null,
  'lifecycle.recovered': null,
  'lifecycle.failed': null,
  'owner.assigned': null,
  'owner.unresolved': null,
  'sla.started': null,
  'sla.breached': null,
  'sla.escalated': null,
  'decision.made': null,
  'approval.requested': null,
  'approval.granted': null,
  'approval.rejected': null,
  'approval.timed_out': null,
  'remediation.assigned': null,
  'evidence.recorded': null,
  'evidence.verified': null,
  'verification.failed': null,
  'exception.requested': null,
  'exception.approved': null,
  'exception.rejected': null,
  // Followed by finding.reopened or finding.resolved, which say what the scanners learn.
  'exception.expired': null,
  'risk.accepted': 'accept_risk',
  'finding.reopened': 'reopen',
  'finding.resolved': 'resolve',
  'finding.false_positive': 'false_positive',
  'false_positive.claimed': null,
  'false_positive.rejected': null,
  'decision.refused': null,
  'remediation.started': null,
  'remediation.needs_approval': null,
  'remediation.unavailable': null,
  'remediation.completed': null,
  'remediation.failed': null,
  'key.contained': null,
  'key.quarantined': null,
  'key.quarantine_lifted': null,
  'key.deactivated': null,
  'key.deleted': null,
  'rotation.succeeded': null,
  'rotation.failed': null,
  'rotation.abandoned': null,
  'rotation.verified': null,
  'ticket.created': 'notify',
  'ticket.commented': null,
};

/** The write-back op of a stored event's action (`null` for one this version does not know). */
export const writebackOpFor = (action: string): WritebackOp | null =>
  isAuditAction(action) ? WRITEBACK_OPS[action] : null;

/**
 * The write-back work a finding's new audit events cause: none when no scanner that reported it
 * keeps a record closeloop can write to (gitleaks, SARIF files…). Written with the events in one
 * transaction, so a closed finding and the news for its scanners are recorded together or not at all.
 */
export function writebackWorkFor(finding: Pick<Finding, 'sources'>, events: AuditEvent[]): WritebackWork[] {
  if (writebackTargets(finding.sources).length === 0) return [];
  const work: WritebackWork[] = [];
  for (const event of events) {
    const op = writebackOpFor(event.action);
    if (!op) continue;
    work.push({
      findingId: event.findingId,
      seq: event.seq,
      op,
      action: event.action,
      reason: redactText(event.reason ?? '').slice(0, 500),
      ...(event.evidenceRef ? { evidenceRef: event.evidenceRef } : {}),
      actor: event.actor,
      createdAt: event.at,
      attempts: 0,
      nextAttemptAt: event.at,
      done: [],
      skipped: [],
    });
  }
  return work;
}
