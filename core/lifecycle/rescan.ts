import type { Evidence, Finding } from '../model';
import type { DecisionDeps } from './decisions';
import { updateFinding } from './update';

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
export async function applyCleanRescans(deps: DecisionDeps, scans: CompletedScan[]): Promise<CleanRescan[]> {
  if (scans.length === 0) return [];
  const waiting = [...(await deps.store.list({ status: 'open' })), ...(await deps.store.list({ status: 'reopened' }))].filter((f) => f.lifecycle?.waitingAt === 'AwaitOwnerFix');
  const done: CleanRescan[] = [];
  for (const scan of scans) {
    const cleared = waiting.filter((f) => scan.assets.has(f.asset.id) && f.sources.some((s) => s.scanner === scan.scanner) && !scan.reported.has(f.id) && !done.some((d) => d.findingId === f.id));
    for (const finding of cleared) done.push({ findingId: finding.id, message: await recordCleanRescan(deps, finding, scan) });
  }
  return done;
}

async function recordCleanRescan(deps: DecisionDeps, finding: Finding, scan: CompletedScan): Promise<string> {
  const actor = `scanner:${scan.scanner}`;
  const ref = `scan:${scan.scanner}:${scan.reportName}`;
  await updateFinding(deps.store, deps.clock, finding.id, (f, at) => {
    const evidence: Evidence = { kind: 'clean_rescan', ref, at, recordedBy: actor, simulated: false };
    return {
      finding: { ...f, evidence: [...f.evidence, evidence] },
      events: [{ actor, action: 'evidence.recorded', evidenceRef: ref, reason: `clean re-scan: ${scan.scanner} no longer reports it in ${f.asset.id} (${scan.reportName})` }],
    };
  });
  const described = await deps.signaller.signal(finding, 'owner_signal', { kind: 'fixed', by: actor });
  return `clean re-scan by ${scan.scanner}: ${described}`;
}
