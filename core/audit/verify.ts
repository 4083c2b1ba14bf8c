import { verifyChain } from './chain';
import type { ManagedSecretStore } from '../rotation/managed-secrets';
import type { FindingStore } from '../finding/ports';

export type AuditVerification =
  | { ok: true; findings: number; secrets: number; events: number }
  | {
      ok: false;
      findings: number;
      secrets: number;
      events: number;
      findingId: string;
      brokenAt: number;
      problem: string;
    };

/**
 * Checks every audit chain against its recorded head, findings first, then managed secrets'
 * rotation histories; stops at the first break (`findingId` is then the finding id or the
 * secret's ARN).
 */
export async function verifyAllChains(store: FindingStore, secrets?: ManagedSecretStore): Promise<AuditVerification> {
  const findings = await store.list();
  const managed = secrets ? await secrets.list() : [];
  let events = 0;
  const counts = { findings: findings.length, secrets: managed.length };
  for (const finding of findings.sort((a, b) => a.id.localeCompare(b.id))) {
    const chain = await store.events(finding.id);
    events += chain.length;
    const verdict = verifyChain(chain, { count: finding.eventCount, lastHash: finding.lastEventHash });
    if (!verdict.ok)
      return {
        ok: false,
        ...counts,
        events,
        findingId: finding.id,
        brokenAt: verdict.brokenAt,
        problem: verdict.problem,
      };
  }
  for (const secret of managed.sort((a, b) => a.secretArn.localeCompare(b.secretArn))) {
    const chain = await secrets!.events(secret.secretArn);
    events += chain.length;
    const verdict = verifyChain(chain, { count: secret.eventCount, lastHash: secret.lastEventHash });
    if (!verdict.ok)
      return {
        ok: false,
        ...counts,
        events,
        findingId: secret.secretArn,
        brokenAt: verdict.brokenAt,
        problem: verdict.problem,
      };
  }
  return { ok: true, ...counts, events };
}
