import { isAuditAction, type AuditAction } from '../audit/actions';
import type { AuditEvent } from '../audit/chain';
import { redactText } from '../shared/redaction';
import { ReturnToSchema, type TicketOp, type TicketWork } from './model';

/**
 * What each audit action does to the finding's ticket; `null`: it stays in the audit trail only.
 * Exhaustive, so a new action cannot be added without deciding this.
 */
export const TICKET_OPS: Readonly<Record<AuditAction, TicketOp | null>> = {
  'finding.created': null,
  'finding.updated': null,
  'source.added': null,
  'source.state_changed': null,
  'source.resolved': 'comment',
  'source.written_back': null,
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
  // The ticket someone marked done goes back to open work: it is not closed without the evidence.
  'verification.failed': 'reopen',
  'exception.requested': 'comment',
  'exception.approved': 'comment',
  'exception.rejected': 'comment',
  'exception.expired': 'comment',
  'risk.accepted': 'comment',
  'finding.reopened': 'reopen',
  'finding.resolved': 'close',
  'finding.false_positive': 'close',
  'false_positive.claimed': 'comment',
  'false_positive.rejected': 'comment',
  'decision.refused': 'refuse',
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

type TextEvent = Pick<AuditEvent, 'action' | 'actor' | 'reason' | 'evidenceRef' | 'to' | 'data'>;

/** A person or service who acted, for a sentence; the hub's own steps are not named. */
const by = (e: TextEvent) => (e.actor.startsWith('closeloop:') ? '' : ` by ${e.actor}`);
const because = (e: TextEvent) => (e.reason ? `: ${e.reason}` : '');
const field = (e: TextEvent, name: string) => {
  const value = e.data?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};
const day = (iso: string | undefined) => (iso ?? '').slice(0, 10);

/**
 * What a ticket says about each event a person should hear of, in a sentence (the audit trail keeps
 * the machine form). Every action with a ticket op has its sentence; the rest never reach a ticket.
 */
const SENTENCES: Partial<Record<AuditAction, (e: TextEvent) => string>> = {
  'source.resolved': (e) =>
    `The scanner that reported it marked it resolved${by(e)}${because(e)}. It stays open here until the evidence proves the fix or an approver decides.`,
  'owner.unresolved': (e) =>
    `Unassigned: the owner could not be matched (${field(e, 'ownerTagProblem') ? `no CMDB owner or configured mapping, and the resource's owner tag could not be read: ${field(e, 'ownerTagProblem')}` : 'no CMDB owner, resource tag or configured mapping'}); ${field(e, 'escalatedTo') ?? 'the identity programme'} was told.`,
  'sla.breached': (e) =>
    `Overdue: it was due ${day(field(e, 'dueAt')) || 'earlier'}; escalated to ${field(e, 'escalatedTo') ?? 'the escalation contact'}.`,
  'sla.escalated': (e) =>
    `Still overdue (due ${day(field(e, 'dueAt')) || 'earlier'}); escalated to ${field(e, 'escalatedTo') ?? 'the escalation contact'} again.`,
  'approval.requested': (e) =>
    `Waiting for a decision: the automated rotation needs approval by someone holding the "${field(e, 'requiredRole') ?? 'approver'}" role${field(e, 'timeoutAt') ? ` (it escalates on ${day(field(e, 'timeoutAt'))} if nobody decides)` : ''}.`,
  'approval.granted': (e) => `Rotation approved${by(e)}${because(e)}.`,
  'approval.rejected': (e) => `Rotation rejected${by(e)}${because(e)}; the owner fixes it.`,
  'approval.timed_out': (e) => `Approval overdue${because(e)}.`,
  'evidence.recorded': (e) =>
    `Evidence recorded${by(e)}: ${e.reason ?? 'evidence'}${e.evidenceRef ? ` (${e.evidenceRef})` : ''}.`,
  'evidence.verified': (e) => `Evidence verified${because(e)}.`,
  'verification.failed': (e) => `Not closed: the evidence does not prove the fix${because(e)}.`,
  'exception.requested': (e) =>
    `Waiting for a decision: ${e.actor.startsWith('closeloop:') ? 'the owner' : e.actor} asks to accept the risk${field(e, 'until') ? ` until ${day(field(e, 'until'))}` : ''}${because(e)}. Someone holding the "${field(e, 'requiredRole') ?? 'approver'}" role decides, never the owner or the requester.`,
  'exception.approved': (e) =>
    `Risk accepted${field(e, 'until') ? ` until ${day(field(e, 'until'))}` : ''}${by(e)}${because(e)}.`,
  'exception.rejected': (e) => `Exception rejected${by(e)}${because(e)}; the owner fixes it.`,
  'exception.expired': (e) =>
    e.data?.exposed === false
      ? 'The accepted risk ended; the exposure is gone.'
      : 'The accepted risk ended and the exposure is still there.',
  'risk.accepted': (e) => `Risk ${e.reason ?? 'accepted'}.`,
  'finding.reopened': (e) => `Reopened${by(e)}${because(e)}.`,
  'finding.resolved': (e) => `Resolved${because(e)}.`,
  'finding.false_positive': (e) => `Closed as a false positive${by(e)}${because(e)}.`,
  'false_positive.claimed': (e) =>
    `Waiting for a decision: claimed to be a false positive${by(e)}${because(e)}. Someone holding the "${field(e, 'requiredRole') ?? 'approver'}" role confirms or rejects it, never the owner or the claimant.`,
  'false_positive.rejected': (e) => `Not a false positive${by(e)}${because(e)}; the owner fixes it.`,
  'decision.refused': (e) =>
    `Refused: ${e.reason ?? 'this change is not allowed'}. ${field(e, 'attempted') ? `"${field(e, 'attempted')}" was not taken; ` : ''}the ticket is back where it waits${field(e, 'awaiting') ? `: ${field(e, 'awaiting')}` : '.'}`,
  'remediation.started': (e) => `Automated remediation started${because(e)}.`,
  'remediation.needs_approval': (e) => `The remediation needs an approval first${because(e)}.`,
  'remediation.unavailable': (e) => `No automated remediation${because(e)}; the owner fixes it.`,
  'remediation.completed': (e) => `Automated remediation completed${because(e)}.`,
  'remediation.failed': (e) => `Automated remediation failed${because(e)}; the owner fixes it.`,
  'key.contained': (e) => `The leaked key was contained${because(e)}.`,
  'key.quarantined': (e) =>
    `The leaked key's user is quarantined (AWSCompromisedKeyQuarantineV3) until the rotation replaces the key${because(e)}.`,
  'key.quarantine_lifted': (e) => `The quarantine was lifted: the leaked key is replaced and deactivated${because(e)}.`,
  'key.deactivated': (e) => `The old key was deactivated${because(e)}.`,
};

/** Ticket text for an event: what happened, who did it, why, in a sentence. User-typed reasons are redacted. */
export function ticketText(event: TextEvent): string {
  const sentence =
    SENTENCES[event.action as AuditAction]?.(event) ??
    `${event.action}${event.to ? ` → ${event.to}` : ''}${by(event)}${because(event)}.`;
  const text =
    event.evidenceRef && event.action !== 'evidence.recorded'
      ? `${sentence} Evidence: ${event.evidenceRef}.`
      : sentence;
  return redactText(text.replace(/\.\.$/, '.')).slice(0, 2000);
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
    const returnTo = op === 'refuse' ? ReturnToSchema.safeParse(event.data?.returnTo) : undefined;
    work.push({
      findingId: event.findingId,
      seq: event.seq,
      op,
      text: ticketText(event),
      action: event.action,
      actor: event.actor,
      createdAt: event.at,
      attempts: 0,
      ...(returnTo?.success ? { returnTo: returnTo.data } : {}),
    });
  }
  return work;
}
