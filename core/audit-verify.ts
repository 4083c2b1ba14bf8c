import { verifyChain } from './audit';
import type { FindingStore } from './ports';

export type AuditVerification =
  | { ok: true; findings: number; events: number }
  | { ok: false; findings: number; events: number; findingId: string; brokenAt: number; problem: string };

/** Checks every finding's audit chain against its recorded head; stops at the first break. */
export async function verifyAllChains(store: FindingStore): Promise<AuditVerification> {
  const findings = await store.list();
  let events = 0;
  for (const finding of findings.sort((a, b) => a.id.localeCompare(b.id))) {
    const chain = await store.events(finding.id);
    events += chain.length;
    const verdict = verifyChain(chain, { count: finding.eventCount, lastHash: finding.lastEventHash });
    if (!verdict.ok) return { ok: false, findings: findings.length, events, findingId: finding.id, brokenAt: verdict.brokenAt, problem: verdict.problem };
  }
  return { ok: true, findings: findings.length, events };
}
