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
  /**
   * On the last event of each write: the hash of the record's decision fields after that write
   * (core/audit/state.ts). The record's fields are so bound to its chain head.
   */
  stateHash: z.string().optional(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;

/** An event before it is placed in a chain: only the actions closeloop knows are written. */
export type AuditEventDraft = Omit<AuditEvent, 'findingId' | 'seq' | 'prevHash' | 'hash' | 'action' | 'stateHash'> & {
  action: AuditAction;
};

/** Canonical JSON: keys sorted, undefined dropped, so the hash does not depend on key order. */
export function canonical(value: unknown): string {
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

/**
 * Checks that a chain's events from `sealed.count` (or its start) to `head.count` extend a head
 * sealed earlier: the event at `sealed.count` still has the sealed hash, and every event after it
 * its own content hash and its link. Returns the problem, or undefined.
 */
export function verifyExtension(
  events: AuditEvent[],
  sealed: { count: number; hash: string },
  head: { count: number; hash: string },
): string | undefined {
  const from = Math.max(1, sealed.count);
  let prevHash = sealed.count === 0 ? GENESIS_HASH : undefined;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (event.seq !== from + i) return `event ${from + i} is missing`;
    const { hash, ...rest } = event;
    if (hashEvent(rest) !== hash) return `event ${event.seq} was altered: its content does not match its hash`;
    if (event.seq === sealed.count && hash !== sealed.hash)
      return `event ${event.seq} is not the one sealed (the trail up to it was rewritten)`;
    if (prevHash !== undefined && event.prevHash !== prevHash)
      return `event ${event.seq} does not follow event ${event.seq - 1}`;
    prevHash = hash;
  }
  const last = events[events.length - 1];
  if (!last || last.seq !== head.count || last.hash !== head.hash)
    return `the chain does not end at the head its record names (${head.count} events)`;
  return undefined;
}
