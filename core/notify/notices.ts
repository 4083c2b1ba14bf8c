import { isAuditAction, type AuditAction } from '../audit/actions';
import type { AuditEvent } from '../audit/chain';
import type { Finding } from '../finding/model';
import { redactText } from '../shared/redaction';
import type { Notice, NoticeKind } from './model';

type Event = Pick<AuditEvent, 'findingId' | 'seq' | 'at' | 'action' | 'reason' | 'data'>;
/** A notice kind, or a choice made from the event and the finding as written (`null`: none). */
type NoticeRule = NoticeKind | ((event: Event, finding: Pick<Finding, 'validity'> | undefined) => NoticeKind | null);

const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined);

/**
 * Which audit actions tell people something outside the ticket, and what. Exhaustive, so a new
 * action cannot be added without deciding this (as `TICKET_OPS` does for the ticket).
 */
export const NOTICE_RULES: Readonly<Record<AuditAction, NoticeRule | null>> = {
  // A leaked credential a scanner verified as working must be revoked, whatever else happens.
  'finding.created': (_, finding) => (finding?.validity === 'active' ? 'credential.active' : null),
  'finding.updated': (event) =>
    (event.data?.validity as { to?: unknown } | undefined)?.to === 'active' ? 'credential.active' : null,
  'source.added': null,
  'source.state_changed': null,
  'source.resolved': null, // said on the ticket; the scanner's verdict decides nothing by itself
  'source.written_back': null,
  'lifecycle.started': null,
  'lifecycle.recovered': null,
  'lifecycle.failed': null,
  'owner.assigned': null,
  'owner.unresolved': null,
  'sla.started': null,
  'sla.breached': 'sla.breached',
  'sla.escalated': 'sla.escalated',
  'decision.made': null,
  'approval.requested': 'approval.waiting',
  'approval.granted': null,
  'approval.rejected': null,
  'approval.timed_out': 'approval.waiting',
  'remediation.assigned': null,
  'evidence.recorded': null,
  'evidence.verified': null,
  'verification.failed': null,
  // An exception request and a false-positive claim wait for an approver, as a remediation approval does.
  'exception.requested': 'approval.waiting',
  'exception.approved': null,
  'exception.rejected': null,
  // The exception ended and the credential is still there: nobody revoked it.
  'exception.expired': (event) => (event.data?.exposed === true ? 'credential.active' : null),
  'risk.accepted': null,
  'finding.reopened': null,
  'finding.resolved': null,
  'finding.false_positive': null,
  'false_positive.claimed': 'approval.waiting',
  'false_positive.rejected': null,
  'decision.refused': null,
  'remediation.started': null,
  'remediation.needs_approval': null,
  'remediation.unavailable': null,
  'remediation.completed': null,
  // Rotation and containment (deactivating a leaked key) both end here when they fail.
  'remediation.failed': 'rotation.failed',
  'key.contained': null,
  'key.quarantined': null,
  'key.quarantine_lifted': null,
  'key.deactivated': null,
  'key.deleted': null,
  'rotation.succeeded': null,
  'rotation.failed': 'rotation.failed',
  'rotation.abandoned': 'rotation.failed',
  'rotation.verified': null,
  'ticket.created': null,
  'ticket.commented': null,
};

/** The notice an event causes, if any. `finding` is the finding as written with it. */
export function noticeFor(
  event: Event,
  subjectKind: Notice['subjectKind'],
  finding?: Pick<Finding, 'validity'>,
): Notice | null {
  if (!isAuditAction(event.action)) return null;
  const rule = NOTICE_RULES[event.action];
  const kind = typeof rule === 'function' ? rule(event, finding) : rule;
  if (!kind) return null;
  const data = event.data ?? {};
  const escalatedTo = text(data.escalatedTo);
  const role = text(data.requiredRole);
  return {
    id: `${event.findingId}#${event.seq}`,
    kind,
    subject: event.findingId,
    subjectKind,
    action: event.action,
    at: event.at,
    reason: redactText(event.reason ?? '').slice(0, 500),
    ...(escalatedTo ? { escalatedTo } : {}),
    ...(role ? { role } : {}),
  };
}

/**
 * The notices a finding write's events cause. Written with the events in one transaction, so an
 * SLA breach and its notice are recorded together or not at all (the outbox `ticketWorkFor` is).
 */
export function noticesFor(events: AuditEvent[], finding: Pick<Finding, 'validity'>): Notice[] {
  return events.flatMap((event) => noticeFor(event, 'finding', finding) ?? []);
}

/** The notice that an accepted risk ends soon: one per exception end, whoever notices it first. */
export function exceptionExpiringNotice(
  finding: Pick<Finding, 'id' | 'exception'>,
  at: string,
  warningDays: number,
): Notice | undefined {
  const exception = finding.exception;
  if (!exception?.approvedBy) return undefined;
  return {
    id: `${finding.id}#exception.expiring#${exception.until}`,
    kind: 'exception.expiring',
    subject: finding.id,
    subjectKind: 'finding',
    action: 'exception.expiring',
    at,
    reason: `the accepted risk ends ${exception.until.slice(0, 10)} (warned ${warningDays} days ahead)`,
    approver: exception.approvedBy,
  };
}
