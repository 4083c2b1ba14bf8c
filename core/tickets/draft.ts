import type { Finding, OwaspNhi } from '../finding/model';
import { evidenceRequired, type Policy } from '../policy/policy';
import { redactText } from '../shared/redaction';
import { truncate } from '../shared/text';
import { ticketLabel, type TicketWork } from './model';
import type { AwaitedDecision, TicketDraft } from './ports';

/** OWASP Non-Human Identities Top 10 (2025) names, for people reading a ticket. */
export const OWASP_NHI_NAMES: Record<OwaspNhi, string> = {
  NHI1: 'Improper Offboarding',
  NHI2: 'Secret Leakage',
  NHI3: 'Vulnerable Third-Party NHI',
  NHI4: 'Insecure Authentication',
  NHI5: 'Overprivileged NHI',
  NHI6: 'Insecure Cloud Deployment Configurations',
  NHI7: 'Long-Lived Secrets',
  NHI8: 'Environment Isolation',
  NHI9: 'NHI Reuse',
  NHI10: 'Human Use of NHI',
};

/** Locations listed in a ticket; the rest are counted. */
const MAX_LISTED_LOCATIONS = 20;
/** Jira's summary limit. */
const MAX_SUMMARY = 255;

/** The news of these actions is in the ticket's own sections (owner, decision awaited): not repeated under "So far". */
const TOLD_BY_THE_SECTIONS: ReadonlySet<string> = new Set([
  'owner.assigned',
  'owner.unresolved',
  'approval.requested',
  'exception.requested',
  'false_positive.claimed',
]);
/** Lines of "So far" at most; the rest are counted. */
const MAX_HISTORY = 20;

/** The principals holding a role, with the Jira and ServiceNow users they are bound to. */
function decidersOf(role: string, policy: Policy): NonNullable<AwaitedDecision['deciders']> {
  return policy.principals
    .filter((p) => p.roles.includes(role))
    .map((p) => ({
      name: p.name,
      jira: (p.identities ?? []).flatMap((b) => (b.jira ? [b.jira] : [])),
      servicenow: (p.identities ?? []).flatMap((b) => (b.servicenow ? [b.servicenow] : [])),
    }));
}

/** What the finding waits for, who may decide it, in a line people can act on. */
export function awaitedDecision(f: Finding, policy: Policy): AwaitedDecision {
  const role = policy.approverRoles[f.severity];
  const deciders = decidersOf(role, policy);
  const exception = f.exception && !f.exception.approvedBy ? f.exception : undefined;
  const exceptionText = exception
    ? `accept the risk until ${exception.until.slice(0, 10)} as ${exception.requestedBy} asked, or reject that`
    : undefined;
  switch (f.lifecycle?.waitingAt) {
    case 'AwaitApproval':
      return {
        kind: 'approval',
        role,
        deciders,
        text: `Waiting for a decision: approve or reject the automated rotation${exceptionText ? `, or ${exceptionText}` : ''}. Someone holding the "${role}" role decides${exceptionText ? ' (never the owner or the requester for the exception)' : ''}.`,
      };
    case 'AwaitExceptionApproval':
      return {
        kind: 'exception',
        role,
        deciders,
        text: `Waiting for a decision: ${exceptionText ?? 'the requested exception'}. Someone holding the "${role}" role decides, never the owner or the requester.`,
      };
    case 'AwaitOwnerFix':
      if (f.falsePositiveClaim)
        return {
          kind: 'false_positive',
          role,
          deciders,
          text: `Waiting for a decision: ${f.falsePositiveClaim.claimedBy} says this is a false positive (${f.falsePositiveClaim.reason}). Someone holding the "${role}" role confirms or rejects it, never the owner or the claimant.`,
        };
      return {
        kind: 'owner_fix',
        text: `Waiting for the owner: fix it and record the evidence below, or request an exception${f.owner ? ` (${f.owner})` : ''}.`,
      };
    case 'ExceptionWait':
      return {
        kind: 'none',
        text: `Nothing to decide: the risk is accepted until ${(f.exception?.until ?? '').slice(0, 10)}${f.exception?.approvedBy ? ` (approved by ${f.exception.approvedBy})` : ''}, then re-validated.`,
      };
    default:
      return {
        kind: 'none',
        text:
          f.status === 'remediating' || f.status === 'verifying'
            ? `Nothing to decide: closeloop is ${f.status === 'remediating' ? 'remediating it' : 'verifying the evidence'}.`
            : 'Nothing to decide yet: the finding is being triaged.',
      };
  }
}

/** The owner line: who, and how closeloop knows; or why nobody is named. */
function ownerLine(f: Finding, policy: Policy): string {
  const unread = f.ownerTagProblem ? `the resource's owner tag could not be read: ${f.ownerTagProblem}` : undefined;
  if (!f.owner || f.ownerVia === 'unowned_queue')
    return `Unassigned: the owner could not be matched (${unread ? `no CMDB owner or configured mapping, and ${unread}` : 'no CMDB owner, resource tag or configured mapping'}), so it is in the ${f.owner ?? policy.unownedQueue} queue; ${policy.escalationContact} was told.`;
  return `Owner: ${f.owner}${f.ownerVia ? ` (from ${f.ownerVia.replace(/_/g, ' ')})` : ''}.${unread ? ` Note: ${unread}.` : ''}`;
}

/**
 * What a finding's ticket says: what was found, where (redacted: never the secret or its line),
 * who owns it (or why nobody does), the decision it waits for and who may take it, the due date,
 * the evidence that closes it, why it matters, how to ask for an exception instead, and what
 * happened before the ticket existed (`folded`: the work the create call tells instead of
 * comments). Every sink renders the same draft.
 */
export function ticketDraft(finding: Finding, policy: Policy, folded: TicketWork[] = []): TicketDraft {
  const f = finding;
  const due = (f.dueAt ?? '').slice(0, 10);
  const where = f.locations.slice(0, MAX_LISTED_LOCATIONS).map((l) => {
    const place = [
      l.repository,
      l.path && `${l.path}${l.line ? `:${l.line}` : ''}`,
      l.commit && `commit ${l.commit.slice(0, 12)}`,
      l.resource,
      l.url,
    ]
      .filter(Boolean)
      .join(' · ');
    return redactText(place || l.kind);
  });
  const more = f.locations.length - MAX_LISTED_LOCATIONS + f.locationsNotListed;
  if (more > 0) where.push(`… and ${more} more location(s)`);
  const summary = redactText(`[closeloop] ${f.severity.toUpperCase()}: ${f.title} (${f.asset.id})`);
  const awaiting = awaitedDecision(f, policy);
  const told = folded.filter((w) => w.op !== 'create' && !TOLD_BY_THE_SECTIONS.has(w.action));
  const history = told.slice(-MAX_HISTORY).map((w) => `${w.createdAt.slice(0, 16).replace('T', ' ')} UTC: ${w.text}`);
  if (told.length > MAX_HISTORY) history.unshift(`… ${told.length - MAX_HISTORY} earlier event(s)`);
  const unowned = !f.owner || f.ownerVia === 'unowned_queue';
  return {
    findingId: f.id,
    label: ticketLabel(f.id),
    finding: f,
    owner: f.owner ?? policy.unownedQueue,
    unowned,
    awaiting,
    escalated: folded.some((w) => w.op === 'escalate'),
    dueDate: due,
    summary: truncate(summary, MAX_SUMMARY),
    sections: [
      {
        heading: 'What',
        lines: [
          redactText(f.title),
          `Finding ${f.id}: ${f.nhiType.replace(/_/g, ' ')} detected by ${f.detector} (${f.sources.map((s) => s.scanner).join(', ')}).`,
          `Severity ${f.severity}; the credential is ${f.validity === 'active' ? 'verified ACTIVE' : f.validity === 'inactive' ? 'reported inactive' : 'of unknown validity'}${f.publiclyExposed ? ' and was exposed publicly' : ''}.`,
          ...(f.secretPreview ? [`Secret (redacted): ${f.secretPreview}`] : []),
        ],
      },
      { heading: 'Where', lines: [`Asset: ${f.asset.type.replace(/_/g, ' ')} ${redactText(f.asset.id)}`, ...where] },
      {
        heading: 'Owner and due date',
        lines: [
          ownerLine(f, policy),
          `Due ${due} (${policy.slaDays[f.severity]}-day SLA for ${f.severity}). Overdue findings escalate to ${policy.escalationContact} every ${policy.escalationCadenceDays} days.`,
        ],
      },
      { heading: 'Decision awaited', lines: [awaiting.text] },
      {
        heading: 'What closes it',
        lines: [
          `Evidence required (any one): ${evidenceRequired(f.nhiType, policy)
            .map((k) => k.replace(/_/g, ' '))
            .join(', ')}.`,
          'Marking this ticket done without that evidence sends it back with a comment saying what is missing.',
        ],
      },
      {
        heading: 'Why it matters',
        lines: [
          'A leaked or unmanaged machine credential stays usable until it is rotated or revoked: anyone who saw it can act as this identity.',
          `OWASP NHI Top 10 (2025): ${f.owaspNhi.map((id) => `${id} ${OWASP_NHI_NAMES[id]}`).join(', ')}.`,
          `NIST CSF 2.0: ${f.nistCsf.join(', ')}.`,
        ],
      },
      {
        heading: 'If it cannot be fixed in time',
        lines: [
          `Request a risk exception (at most ${policy.maxExceptionDays[f.severity]} days for ${f.severity}): resolve this ticket as "Won't Do" with the reason, or run`,
          `closeloop exception request ${f.id} --until <YYYY-MM-DD> --reason "<why, and the compensating control>" --as <owner>`,
          'An approver other than the owner decides; accepted risk is re-validated when it expires.',
        ],
      },
      ...(history.length > 0 ? [{ heading: 'So far', lines: history }] : []),
    ],
  };
}
