import type { Evidence, Finding } from '../finding/model';
import type { DecisionDeps } from './decisions';
import { updateFinding } from '../finding/update';
import { waitingEntry, waitsForOwner, type WaitingEntry } from '../finding/waiting';

/** A report read in full: which scanner looked at which assets, and which findings it reported. */
export interface CompletedScan {
  reportName: string;
  scanner: string;
  assets: Set<string>;
  /** The scopes of those assets (core/finding/waiting.ts `waitScope`): where the findings it can clear are indexed. */
  scopes: Set<string>;
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
  const done: CleanRescan[] = [];
  for (const scan of scans) {
    const ref = `scan:${scan.scanner}:${scan.reportName}`;
    const speaksOf = (entry: WaitingEntry) =>
      scan.assets.has(entry.assetId) &&
      entry.scanners.includes(scan.scanner) &&
      !scan.reported.has(entry.id) &&
      // A lifecycle the same ingest started waits for a fix these scans cannot speak of yet: one of
      // them reported the finding, and an earlier report not reporting it says nothing.
      !options.startedMeanwhile?.has(entry.id) &&
      !done.some((d) => d.findingId === entry.id);
    for (const finding of await waitingForOwner(deps, scan.scopes, speaksOf)) {
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

/**
 * Findings of these scopes whose lifecycle waits for the owner's fix and whose entry `match`
 * accepts, checked again as read (the index may lag a write), in id order.
 */
export async function waitingForOwner(
  deps: Pick<DecisionDeps, 'store'>,
  scopes: Iterable<string>,
  match: (entry: WaitingEntry) => boolean,
): Promise<Finding[]> {
  return (await deps.store.waitingForOwner(scopes, match))
    .filter((f) => waitsForOwner(f) && match(waitingEntry(f)))
    .sort((a, b) => a.id.localeCompare(b.id));
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
