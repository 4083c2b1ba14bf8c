import type { Clock } from '../shared/clock';
import { CloseloopError } from '../shared/errors';
import type { Finding, SourceRef } from '../finding/model';
import type { FindingStore } from '../finding/ports';
import { updateFinding } from '../finding/update';
import type { Policy } from '../policy/policy';
import { redactText } from '../shared/redaction';
import { revocationProven, writebackNote } from './message';
import { systemOf, targetKey, writebackId, writebackTargets, type WritebackWork } from './model';
import type { SourceWriter, WritebackStore } from './ports';

export interface WritebackDeps {
  store: FindingStore;
  work: WritebackStore;
  /** The hub's clock: audit events are stamped with it. */
  clock: Clock;
  policy: Policy;
  /** The scanners that are configured, by the kind of record they update. */
  writers: Partial<Record<SourceRef['system'], SourceWriter>>;
  /** This worker's name in leases (unique per process). */
  worker: string;
  /** Work items read per round. @default 200 */
  batchSize?: number;
  /** Findings worked on at once. @default 4 */
  concurrency?: number;
  /** Real time: backoff and leases (the hub's clock may be fixed for a simulation). */
  now?: () => Date;
  random?: () => number;
}

export interface WritebackResult {
  /** Scanner records told something (or found already saying it). */
  written: number;
  /** Scanner records deliberately not told (off in the policy, not configured, nothing to say). */
  skipped: number;
  /** Work still pending when the run stopped (some of it may be waiting out a backoff). */
  pending: number;
  /** Work that failed in this run for the STUCK_ATTEMPTS-th time or more: someone must look (the Lambda's alarm). */
  stuck: number;
  /** One line per thing that did not go through, already redacted. */
  problems: string[];
}

/** Write-back kept failing for hours: someone must look (the work itself stays pending). */
export class WritebackStuckError extends CloseloopError {
  constructor(
    readonly result: WritebackResult,
    options?: ErrorOptions,
  ) {
    super(
      `${result.stuck} write-back(s) failed ${STUCK_ATTEMPTS} times or more and stay pending: ${result.problems.slice(0, 3).join('; ')}`,
      options,
    );
    this.name = 'WritebackStuckError';
  }
}

/** Failed attempts after which pending work counts as stuck (about 3 hours of backoff). */
export const STUCK_ATTEMPTS = 8;
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 60 * 60_000;
const LEASE_MS = 5 * 60_000;

const SYSTEM_NAMES: Record<SourceRef['system'], string> = {
  github: 'GitHub',
  gitguardian: 'GitGuardian',
  securityhub: 'Security Hub',
  securityhub_v2: 'Security Hub',
};
const describe = (err: unknown) => redactText(err instanceof Error ? err.message : String(err)).slice(0, 300);

/**
 * When a failed item may be tried again: exponential backoff from 30 s to an hour with jitter
 * (half fixed, half random, so retries spread out but never come at once), or later when the
 * scanner said so (Retry-After, a rate-limit reset).
 */
export function retryDelayMs(attempts: number, retryAfterMs: number | undefined, random: () => number): number {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
  const backoff = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  return Math.max(backoff, retryAfterMs ?? 0);
}

/**
 * Tells the scanners that reported each finding what became of it, exactly once per record and
 * in event order per finding (a resolution is never sent after the reopening that followed it):
 * 1. each item is leased, so two workers never send it at once;
 * 2. each record it reaches is marked done as soon as it is told, so a retry skips it, and each
 *    writer checks the record first (state, or its own note by work id), so a lost answer repeats nothing;
 * 3. a failure keeps the item pending with its reason until its backoff ends; the items after it
 *    wait too. Nothing is dropped: after STUCK_ATTEMPTS failures it is counted as stuck.
 * A record whose scanner the policy turns off, or that is not configured here, is skipped and the
 * skip is kept on the item.
 */
export async function syncWriteback(
  deps: WritebackDeps,
  options: { deadlineMs?: number } = {},
): Promise<WritebackResult> {
  const result: WritebackResult = { written: 0, skipped: 0, pending: 0, stuck: 0, problems: [] };
  const realNow = deps.now ?? (() => new Date());
  const started = realNow().getTime();
  const deadline = options.deadlineMs ?? 60_000;
  const seen = new Set<string>();
  for (;;) {
    // Due at the later of the two clocks: a simulation ahead of real time still sends its work.
    const now = new Date(Math.max(realNow().getTime(), deps.clock.now().getTime())).toISOString();
    const due = (await deps.work.dueWork(now, deps.batchSize ?? 200)).filter((w) => !seen.has(writebackId(w)));
    if (due.length === 0) break;
    for (const w of due) seen.add(writebackId(w));
    const findings = [...new Set(due.map((w) => w.findingId))];
    await pool(findings, deps.concurrency ?? 4, (id) => syncFinding(deps, id, now, result));
    if (realNow().getTime() - started >= deadline) break;
  }
  result.pending = await deps.work.countPending();
  return result;
}

async function syncFinding(deps: WritebackDeps, findingId: string, now: string, result: WritebackResult) {
  const realNow = deps.now ?? (() => new Date());
  for (const work of await deps.work.pendingOf(findingId)) {
    if (work.nextAttemptAt > now) return; // backing off: what follows it waits
    const leaseUntil = new Date(realNow().getTime() + LEASE_MS).toISOString();
    if (!(await deps.work.claim(work, deps.worker, realNow().toISOString(), leaseUntil))) return;
    const finding = await deps.store.get(findingId);
    if (!finding) {
      await deps.work.completeWork(work, deps.clock.now().toISOString(), [`finding ${findingId} no longer exists`]);
      continue;
    }
    if (!(await sendWork(deps, finding, work, result))) return;
  }
}

/** Sends one item to every record of its finding; `false` when one failed (the item stays pending). */
async function sendWork(deps: WritebackDeps, finding: Finding, work: WritebackWork, result: WritebackResult) {
  const skipped = [...work.skipped];
  const text = writebackNote(finding, work);
  const revoked = revocationProven(finding, work);
  for (const ref of writebackTargets(finding.sources)) {
    const key = targetKey(ref);
    if (work.done.includes(key) || skipped.some((s) => s.startsWith(`${key}:`))) continue;
    const system = systemOf(ref);
    const writer = deps.writers[ref.system];
    const name = SYSTEM_NAMES[ref.system];
    if (!deps.policy.writeBack[system]) {
      skipped.push(`${key}: write-back to ${name} is off in the policy`);
      result.skipped++;
      continue;
    }
    if (!writer) {
      skipped.push(`${key}: ${name} is not configured here`);
      result.skipped++;
      continue;
    }
    try {
      const outcome = await writer.write(ref, { workId: writebackId(work), op: work.op, finding, text, revoked });
      if (outcome.outcome === 'skipped') {
        skipped.push(`${key}: ${outcome.reason}`);
        result.skipped++;
        continue;
      }
      await deps.work.markTargetDone(work, key);
      work.done.push(key);
      result.written++;
      await updateFinding(deps.store, deps.clock, finding.id, (f) => ({
        finding: f,
        events: [
          {
            actor: 'closeloop:writeback',
            action: 'source.written_back',
            reason: redactText(outcome.detail).slice(0, 300),
            data: { target: key, op: work.op, outcome: outcome.outcome },
          },
        ],
      }));
    } catch (err) {
      const attempts = work.attempts + 1;
      const retryAfter = (err as { retryAfterMs?: unknown }).retryAfterMs;
      const wait = retryDelayMs(
        attempts,
        typeof retryAfter === 'number' ? retryAfter : undefined,
        deps.random ?? Math.random,
      );
      const next = new Date((deps.now ?? (() => new Date()))().getTime() + wait).toISOString();
      const message = `${name} ${key}: ${describe(err)}`;
      await deps.work.failWork(work, message, next);
      if (attempts >= STUCK_ATTEMPTS) result.stuck++;
      result.problems.push(
        `${finding.id} (${work.op}, attempt ${attempts}): ${message}; next try after ${next.slice(0, 19)}Z`,
      );
      return false;
    }
  }
  await deps.work.completeWork(work, deps.clock.now().toISOString(), skipped);
  return true;
}

/** Runs `fn` over items with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
