import type { Evidence } from '../finding/model';
import { isClosed } from '../finding/model';
import { updateFinding } from '../finding/update';
import { redactText } from '../shared/redaction';
import { reopenFinding, type DecisionDeps } from './decisions';

/**
 * What a scanner said about its own record of a finding (a GitHub webhook or pull, a GitGuardian
 * pull): revoked at the source, resolved for another reason, or reopened.
 */
export type SourceSignal =
  | {
      kind: 'revoked';
      findingId: string;
      /** Who says so: `github:<login>`, `gitguardian`. */
      actor: string;
      /** The evidence reference (`github:acme/api#7 resolved as revoked by @octocat`). */
      ref: string;
      reason: string;
    }
  | { kind: 'resolved'; findingId: string; actor: string; reason: string }
  | { kind: 'reopened'; findingId: string; actor: string; reason: string };

export interface SignalOutcome {
  outcome: 'applied' | 'ignored';
  message: string;
}

/**
 * Applies a scanner's signal to its finding. A scanner never closes a finding by itself:
 * - revoked at the source is evidence (`secret_revoked_at_source`); a finding waiting for its
 *   owner resumes and verification decides, one in another phase keeps it for its next verification;
 * - resolved for another reason (false positive, won't fix, used in tests) is recorded and said on
 *   the ticket, for the owner or an approver to act on;
 * - reopened reopens a closed finding (new generation and lifecycle).
 * A signal about a closed finding (most often the scanner echoing closeloop's own write-back) is
 * ignored, except a reopening.
 */
export async function applySourceSignal(deps: DecisionDeps, signal: SourceSignal): Promise<SignalOutcome> {
  const finding = await deps.store.get(signal.findingId);
  if (!finding) return { outcome: 'ignored', message: `finding ${signal.findingId} not found` };
  const reason = redactText(signal.reason).slice(0, 500);
  if (signal.kind === 'reopened') {
    if (!isClosed(finding.status))
      return { outcome: 'ignored', message: `${finding.id} is ${finding.status}: nothing to reopen` };
    return { outcome: 'applied', message: await reopenFinding(deps, { id: finding.id, by: signal.actor, reason }) };
  }
  if (isClosed(finding.status))
    return { outcome: 'ignored', message: `${finding.id} is already ${finding.status.replace('_', ' ')}` };

  if (signal.kind === 'resolved') {
    await updateFinding(deps.store, deps.clock, finding.id, (f) => ({
      finding: f,
      events: [{ actor: signal.actor, action: 'source.resolved', reason }],
    }));
    return { outcome: 'applied', message: `${finding.id}: recorded (${reason}); the finding stays ${finding.status}` };
  }

  // Revoked at the source: evidence, once per scanner record and report.
  const ref = redactText(signal.ref).slice(0, 500);
  if (finding.evidence.some((e) => e.kind === 'secret_revoked_at_source' && e.ref === ref && !e.simulated))
    return { outcome: 'ignored', message: `${finding.id}: already has this evidence` };
  await updateFinding(deps.store, deps.clock, finding.id, (f, at) => {
    const recorded: Evidence = {
      kind: 'secret_revoked_at_source',
      ref,
      at,
      recordedBy: signal.actor,
      simulated: false,
    };
    return {
      finding: { ...f, evidence: [...f.evidence, recorded] },
      events: [{ actor: signal.actor, action: 'evidence.recorded', evidenceRef: ref, reason }],
    };
  });
  if (finding.lifecycle?.waitingAt !== 'AwaitOwnerFix')
    return {
      outcome: 'applied',
      message: `${finding.id}: evidence recorded (secret revoked at source); it counts at the next verification`,
    };
  const described = await deps.signaller.signal(finding, 'owner_signal', { kind: 'fixed', by: signal.actor });
  return { outcome: 'applied', message: `${finding.id}: secret revoked at source; ${described}` };
}
