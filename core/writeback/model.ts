import { z } from 'zod';
import type { Source, SourceRef } from '../finding/model';

/** The scanners closeloop writes outcomes back to; the policy's `writeBack` turns each on or off. */
export const WRITEBACK_SYSTEMS = ['github', 'gitguardian', 'securityhub'] as const;
export type WritebackSystem = (typeof WRITEBACK_SYSTEMS)[number];

/** The policy switch a source record falls under (both Security Hub APIs are `securityhub`). */
export const systemOf = (ref: SourceRef): WritebackSystem =>
  ref.system === 'securityhub_v2' ? 'securityhub' : ref.system;

/**
 * What a lifecycle transition tells the scanners that reported the finding: `notify` (a ticket
 * now tracks it), `resolve` (closed on evidence), `false_positive`, `accept_risk` (an approved
 * exception, until its end date) and `reopen` (it is open work again).
 */
export const WritebackOpSchema = z.enum(['notify', 'resolve', 'false_positive', 'accept_risk', 'reopen']);
export type WritebackOp = z.infer<typeof WritebackOpSchema>;

/**
 * One piece of pending write-back (the twin of the ticket outbox): written in the same transaction
 * as the audit event that caused it, keyed by that event's sequence number, so it exists exactly
 * once. Each scanner record it reaches is added to `done` as soon as that record is told, so a
 * retry never tells one twice.
 */
export const WritebackWorkSchema = z.object({
  findingId: z.string(),
  /** The causing audit event's sequence number: the work's identity and its order. */
  seq: z.number().int().positive(),
  op: WritebackOpSchema,
  /** The causing event's action and what it said (already redacted). */
  action: z.string(),
  reason: z.string().default(''),
  /** The evidence the event names (a resolution's proof), to say what closed it. */
  evidenceRef: z.string().optional(),
  actor: z.string(),
  createdAt: z.string(),
  /** Failed attempts so far. */
  attempts: z.number().int().nonnegative().default(0),
  /** Not before this instant (backoff after a failure; the creation time at first). */
  nextAttemptAt: z.string(),
  lastError: z.string().optional(),
  /** Scanner records already told (`targetKey`). */
  done: z.array(z.string()).default([]),
  /** Scanner records deliberately not told, each with why (`github acme/api#3: write-back is off in the policy`). */
  skipped: z.array(z.string()).default([]),
});
export type WritebackWork = z.infer<typeof WritebackWorkSchema>;

/** The identity of a work item, carried in every note so a retry can recognise its own. */
export const writebackId = (w: Pick<WritebackWork, 'findingId' | 'seq'>) => `${w.findingId}-${w.seq}`;

/** A scanner record's key in `done`, and how messages name it. */
export function targetKey(ref: SourceRef): string {
  switch (ref.system) {
    case 'github':
      return `github:${ref.repository.toLowerCase()}#${ref.alert}`;
    case 'gitguardian':
      return `gitguardian:incident/${ref.incident}`;
    case 'securityhub':
      return `securityhub:${ref.id}`;
    case 'securityhub_v2':
      return `securityhub_v2:${ref.findingUid}`;
  }
}

/** The scanner records of a finding that can be written back to, one per record. */
export function writebackTargets(sources: readonly Source[]): SourceRef[] {
  const seen = new Set<string>();
  const out: SourceRef[] = [];
  for (const s of sources) {
    if (!s.ref || seen.has(targetKey(s.ref))) continue;
    seen.add(targetKey(s.ref));
    out.push(s.ref);
  }
  return out;
}

/**
 * How notes written to a scanner begin. A scanner that echoes its record back (a GitHub
 * `resolved` webhook after closeloop resolved the alert, a Security Hub import event after
 * BatchUpdateFindings) is recognised by it and not taken for the scanner's own verdict.
 */
export const WRITEBACK_MARK = 'closeloop:';
/** Security Hub's `Note.UpdatedBy` of closeloop's updates. */
export const WRITEBACK_AUTHOR = 'closeloop';
