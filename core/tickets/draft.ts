import type { Finding, OwaspNhi } from '../finding/model';
import { evidenceRequired, type Policy } from '../policy/policy';
import { redactText } from '../shared/redaction';
import { truncate } from '../shared/text';
import { ticketLabel } from './model';
import type { TicketDraft } from './ports';

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

/**
 * What a finding's ticket says: what was found, where (redacted: never the secret or its line),
 * why it matters, the standards it maps to, the evidence that closes it, the due date, and
 * how to ask for an exception instead. Every sink renders the same draft.
 */
export function ticketDraft(finding: Finding, policy: Policy): TicketDraft {
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
  return {
    findingId: f.id,
    label: ticketLabel(f.id),
    finding: f,
    owner: f.owner ?? policy.unownedQueue,
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
        heading: 'Why it matters',
        lines: [
          'A leaked or unmanaged machine credential stays usable until it is rotated or revoked: anyone who saw it can act as this identity.',
          `OWASP NHI Top 10 (2025): ${f.owaspNhi.map((id) => `${id} ${OWASP_NHI_NAMES[id]}`).join(', ')}.`,
          `NIST CSF 2.0: ${f.nistCsf.join(', ')}.`,
        ],
      },
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
        heading: 'Owner and due date',
        lines: [
          `Owner: ${f.owner ?? policy.unownedQueue}${f.ownerVia ? ` (from ${f.ownerVia.replace(/_/g, ' ')})` : ''}.`,
          `Due ${due} (${policy.slaDays[f.severity]}-day SLA for ${f.severity}). Overdue findings escalate to ${policy.escalationContact} every ${policy.escalationCadenceDays} days.`,
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
    ],
  };
}
