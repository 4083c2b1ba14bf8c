import type { Evidence, Finding } from '../finding/model';
import type { DecisionDeps } from './decisions';
import { updateFinding } from '../finding/update';

/** A report read in full: which scanner looked at which assets, and which findings it reported. */
export interface CompletedScan {
  reportName: string;
  scanner: string;
  assets: Set<string>;
  /** Finding ids the report reported (again). */
  reported: Set<string>;
}

export interface CleanRescan {
  findingId: string;
  message: string;
}

/**
 * A later scan of the same scope that no longer reports a finding is evidence (`clean_rescan`)
 * and resumes its owner-fix wait: the lifecycle then verifies, and the policy decides whether a
 * clean re-scan closes that finding type (an AWS key, by default, needs more). Only findings
 * the same scanner reported on one of the scanned assets qualify.
 */
export async function applyCleanRescans(
  deps: DecisionDeps,
  scans: CompletedScan[],
  options: { startedMeanwhile?: ReadonlySet<string> } = {},
): Promise<CleanRescan[]> {
  if (scans.length === 0) return [];
  // A lifecycle the same ingest started waits for a fix these scans cannot speak of yet: one of
  // them reported the finding, and an earlier report not reporting it says nothing.
  const waiting = (await waitingForOwner(deps)).filter((f) => !options.startedMeanwhile?.has(f.id));
  const done: CleanRescan[] = [];
  for (const scan of scans) {
    const cleared = waiting.filter(
      (f) =>
        scan.assets.has(f.asset.id) &&
        f.sources.some((s) => s.scanner === scan.scanner) &&
        !scan.reported.has(f.id) &&
        !done.some((d) => d.findingId === f.id),
    );
    for (const finding of cleared) {
      const ref = `scan:${scan.scanner}:${scan.reportName}`;
      const message = await recordScanEvidence(deps, finding, {
        actor: `scanner:${scan.scanner}`,
        kind: 'clean_rescan',
        ref,
        reason: `clean re-scan: ${scan.scanner} no longer reports it in ${finding.asset.id} (${scan.reportName})`,
      });
      if (message) done.push({ findingId: finding.id, message });
    }
  }
  return done;
}

/** Findings whose lifecycle waits for the owner's fix: what a scan's evidence can resume. */
export async function waitingForOwner(deps: Pick<DecisionDeps, 'store'>): Promise<Finding[]> {
  return [...(await deps.store.list({ status: 'open' })), ...(await deps.store.list({ status: 'reopened' }))].filter(
    (f) => f.lifecycle?.waitingAt === 'AwaitOwnerFix',
  );
}

/** What a scan found out about a finding it no longer reports. */
export interface ScanEvidence {
  actor: string;
  kind: Evidence['kind'];
  ref: string;
  reason: string;
}

/**
 * Records the evidence and resumes the owner-fix wait, once: when the finding already carries
 * evidence of this kind from this actor since it was last reported, nothing new is known (a
 * daily scan must not bounce the same finding back to its owner every day). Returns what
 * happened, or undefined when there was nothing new.
 */
export async function recordScanEvidence(
  deps: DecisionDeps,
  finding: Finding,
  evidence: ScanEvidence,
): Promise<string | undefined> {
  const known = finding.evidence.some(
    (e) => e.kind === evidence.kind && e.recordedBy === evidence.actor && !e.simulated && e.at >= finding.lastSeen,
  );
  if (known) return undefined;
  await updateFinding(deps.store, deps.clock, finding.id, (f, at) => {
    const recorded: Evidence = {
      kind: evidence.kind,
      ref: evidence.ref,
      at,
      recordedBy: evidence.actor,
      simulated: false,
    };
    return {
      finding: { ...f, evidence: [...f.evidence, recorded] },
      events: [
        { actor: evidence.actor, action: 'evidence.recorded', evidenceRef: evidence.ref, reason: evidence.reason },
      ],
    };
  });
  const described = await deps.signaller.signal(finding, 'owner_signal', { kind: 'fixed', by: evidence.actor });
  const what = evidence.kind === 'clean_rescan' ? 'clean re-scan' : evidence.kind.replace(/_/g, ' ');
  return `${what} by ${evidence.actor.replace(/^scanner:/, '')}: ${described}`;
}
