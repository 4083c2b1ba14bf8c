import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AuditAction } from './actions';

/** The hash that precedes the first event of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** An append-only, hash-chained record of something that happened to a finding. */
export const AuditEventSchema = z.object({
  findingId: z.string(),
  seq: z.number().int().positive(),
  at: z.string(),
  actor: z.string().min(1),
  /**
   * What authenticated the actor, in full, when it came through an authenticated edge: an IAM
   * ARN (with its session), `oidc:<issuer>#<subject>`, `jira:<accountId>`, `local:<name>`.
   * `actor` is the principal the policy names; this is who that was.
   */
  actorIdentity: z.string().min(1).optional(),
  /**
   * Dotted verb (one of AUDIT_ACTIONS when written). Read by shape only, so that a trail stays
   * readable and verifiable whatever version of closeloop wrote it.
   */
  action: z.string().regex(/^[a-z_]+\.[a-z_]+$/),
  from: z.string().optional(),
  to: z.string().optional(),
  reason: z.string().optional(),
  evidenceRef: z.string().optional(),
  /** Small structured details (never a secret). */
  data: z.record(z.string(), z.unknown()).optional(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;

/** An event before it is placed in a chain: only the actions closeloop knows are written. */
export type AuditEventDraft = Omit<AuditEvent, 'findingId' | 'seq' | 'prevHash' | 'hash' | 'action'> & {
  action: AuditAction;
};

/** Canonical JSON: keys sorted, undefined dropped, so the hash does not depend on key order. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** The hash of an event: SHA-256 over its canonical form without the `hash` field. */
export function hashEvent(event: Omit<AuditEvent, 'hash'>): string {
  return createHash('sha256').update(canonical(event)).digest('hex');
}

/** Places drafts after the chain head `{count, lastHash}` and returns the chained events. */
export function chainEvents(
  findingId: string,
  head: { count: number; lastHash: string },
  drafts: AuditEventDraft[],
): AuditEvent[] {
  const out: AuditEvent[] = [];
  let prevHash = head.lastHash;
  let seq = head.count;
  for (const draft of drafts) {
    seq += 1;
    const unhashed = { ...draft, findingId, seq, prevHash };
    const hash = hashEvent(unhashed);
    out.push({ ...unhashed, hash });
    prevHash = hash;
  }
  return out;
}

export type ChainVerdict =
  { ok: true; events: number } | { ok: false; events: number; brokenAt: number; problem: string };

/**
 * Checks one finding's chain: sequence numbers without gaps, each event's hash over its
 * content, each `prevHash` equal to the previous event's hash, and the last hash equal to the
 * finding's recorded chain head (so a deleted tail is caught too).
 */
export function verifyChain(events: AuditEvent[], head?: { count: number; lastHash: string }): ChainVerdict {
  let prevHash = GENESIS_HASH;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const expectedSeq = i + 1;
    if (event.seq !== expectedSeq) {
      return {
        ok: false,
        events: events.length,
        brokenAt: expectedSeq,
        problem: `event ${expectedSeq} is missing (found event ${event.seq} in its place)`,
      };
    }
    if (event.prevHash !== prevHash) {
      return {
        ok: false,
        events: events.length,
        brokenAt: event.seq,
        problem: `event ${event.seq} (${event.action}) does not follow event ${event.seq - 1}: previous-hash mismatch`,
      };
    }
    const { hash, ...rest } = event;
    if (hashEvent(rest) !== hash) {
      return {
        ok: false,
        events: events.length,
        brokenAt: event.seq,
        problem: `event ${event.seq} (${event.action}) was altered: its content does not match its hash`,
      };
    }
    prevHash = hash;
  }
  if (head && (head.count !== events.length || head.lastHash !== prevHash)) {
    return {
      ok: false,
      events: events.length,
      brokenAt: events.length + 1,
      problem: `the chain ends at event ${events.length} but the finding records ${head.count} events: events were removed`,
    };
  }
  return { ok: true, events: events.length };
}
