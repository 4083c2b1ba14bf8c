import type { Finding, SourceRef } from '../finding/model';
import type { WritebackOp, WritebackWork } from './model';

/** Where pending write-back is kept: the WRITEBACK partition of byTimer, beside each finding. */
export interface WritebackStore {
  /** Work that may be tried at `now` (ISO-8601), soonest first. */
  dueWork(now: string, limit: number): Promise<WritebackWork[]>;
  /** Every pending item of one finding, in event order (also those backing off). */
  pendingOf(findingId: string): Promise<WritebackWork[]>;
  /** Pending items, counted up to `cap`. */
  countPending(cap?: number): Promise<number>;
  /** Takes the item for `worker` until `leaseUntil`; `false` when another worker holds it. */
  claim(work: WritebackWork, worker: string, now: string, leaseUntil: string): Promise<boolean>;
  /** One scanner record was told: a retry skips it. */
  markTargetDone(work: WritebackWork, target: string): Promise<void>;
  /** Every record was told (or deliberately skipped, each with why): the item leaves the outbox. */
  completeWork(work: WritebackWork, at: string, skipped: string[]): Promise<void>;
  /** A record could not be told: the item waits until `nextAttemptAt`, with the reason. */
  failWork(work: WritebackWork, error: string, nextAttemptAt: string): Promise<void>;
}

/** What one scanner record is told. */
export interface WritebackRequest {
  /** The work's id (`writebackId`): notes carry it, so a retry recognises its own. */
  workId: string;
  op: WritebackOp;
  finding: Finding;
  /** The note: begins with WRITEBACK_MARK, names the finding and the evidence, already redacted, ≤ 500 characters. */
  text: string;
  /** Whether the closing evidence proves the credential no longer works (rotated, deactivated, revoked). */
  revoked: boolean;
}

export type WritebackOutcome =
  /** The record now says what the hub knows; `detail` says how (`alert acme/api#3 resolved as revoked`). */
  | { outcome: 'written'; detail: string }
  /** The record already said it (someone, or an earlier attempt, got there first). */
  | { outcome: 'unchanged'; detail: string }
  /** Nothing to tell this kind of record, or it no longer exists. */
  | { outcome: 'skipped'; reason: string };

/**
 * A scanner that keeps records closeloop can update (GitHub, GitGuardian, Security Hub). Each
 * write sets a target state or adds a note the record is checked for first, so repeating it after
 * a lost answer changes nothing. Throws on failure (`retryAfterMs` when the scanner said when).
 */
export interface SourceWriter {
  write(ref: SourceRef, request: WritebackRequest): Promise<WritebackOutcome>;
}
