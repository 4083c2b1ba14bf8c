import type { EvidenceKind, Finding } from '../finding/model';
import { redactText } from '../shared/redaction';
import { truncate } from '../shared/text';
import { WRITEBACK_MARK, writebackId, type WritebackWork } from './model';

/** The longest note any scanner takes (Security Hub: 512 characters). */
export const MAX_NOTE = 500;

/** Evidence that the credential itself no longer works, not only that it left the code. */
const REVOKING: ReadonlySet<EvidenceKind> = new Set(['rotation_record', 'key_deactivated', 'secret_revoked_at_source']);

/**
 * Whether the finding was closed on proof that the credential no longer works: the evidence that
 * closed it rotated, deactivated or revoked it, or a validity check found it inactive. A clean
 * re-scan or an owner's note proves less, and the scanners are not told more than that.
 */
export function revocationProven(finding: Finding, work: Pick<WritebackWork, 'evidenceRef'>): boolean {
  if (finding.validity === 'inactive') return true;
  const proof = work.evidenceRef ? finding.evidence.find((e) => e.ref === work.evidenceRef && !e.simulated) : undefined;
  return proof !== undefined && REVOKING.has(proof.kind);
}

const kindName = (kind: string) => kind.replace(/_/g, ' ');

/**
 * The note a scanner record gets: the finding, what happened and on what evidence, the ticket,
 * and the work id. Only what the hub already keeps (ids, statuses, typed text redacted when it
 * was stored) goes in, and it is redacted again: a note never carries a secret.
 */
export function writebackNote(finding: Finding, work: WritebackWork): string {
  const id = finding.id;
  const ticket = finding.ticket
    ? ` Ticket ${finding.ticket.key}${finding.ticket.url ? ` ${finding.ticket.url}` : ''}.`
    : '';
  let body: string;
  switch (work.op) {
    case 'notify':
      body = `${id} is tracked in ticket ${finding.ticket?.key ?? '?'}${finding.ticket?.url ? ` (${finding.ticket.url})` : ''}; owner ${finding.owner ?? 'unassigned'}${finding.dueAt ? `, due ${finding.dueAt.slice(0, 10)}` : ''}.`;
      return finish(body, work);
    case 'resolve': {
      const proof = work.evidenceRef ? finding.evidence.find((e) => e.ref === work.evidenceRef) : undefined;
      const evidence = proof ? `${kindName(proof.kind)} (${proof.ref})` : work.reason || 'its exposure is gone';
      const revoked = revocationProven(finding, work) ? '' : ' Revocation at the source was not proven.';
      body = `${id} resolved on evidence: ${evidence}.${revoked}${ticket}`;
      break;
    }
    case 'false_positive':
      body = `${id} closed as a false positive by ${work.actor}: ${work.reason}.${ticket}`;
      break;
    case 'accept_risk': {
      const until = finding.exception?.until?.slice(0, 10);
      body = `${id} risk accepted${until ? ` until ${until}` : ''}${finding.exception?.approvedBy ? `, approved by ${finding.exception.approvedBy}` : ''}; it is revalidated when the exception ends.${ticket}`;
      break;
    }
    case 'reopen':
      body = `${id} reopened: ${work.reason}.${ticket}`;
      break;
  }
  return finish(body, work);
}

function finish(body: string, work: WritebackWork): string {
  const tag = ` [${writebackId(work)}]`;
  return `${WRITEBACK_MARK} ${truncate(redactText(body), MAX_NOTE - WRITEBACK_MARK.length - 1 - tag.length)}${tag}`;
}
