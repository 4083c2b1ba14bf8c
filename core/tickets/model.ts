import { z } from 'zod';

/** Which system holds a finding's ticket: a Jira Cloud or Data Center project, a ServiceNow group, or the hub's own tracker. */
export const SinkRefSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local') }),
  z.object({ kind: z.literal('jira'), project: z.string().min(1) }),
  z.object({ kind: z.literal('jira-dc'), project: z.string().min(1) }),
  z.object({ kind: z.literal('servicenow'), assignmentGroup: z.string().min(1).optional() }),
]);
export type SinkRef = z.infer<typeof SinkRefSchema>;
export type SinkKind = SinkRef['kind'];

/**
 * What a lifecycle transition asks of the finding's ticket. `create` opens it (or, when the
 * ticket exists, refreshes nothing); `escalate` raises its priority and comments; `close` and
 * `reopen` transition it; `comment` adds a note; `refuse` says why a change someone made in the
 * ticket was refused and puts the ticket back where it waited (`returnTo`).
 */
export const TicketOpSchema = z.enum(['create', 'comment', 'escalate', 'close', 'reopen', 'refuse']);
export type TicketOp = z.infer<typeof TicketOpSchema>;

/**
 * Where a ticket goes back to after a refused change: the Jira status (or ServiceNow state) it
 * was in, a Jira decision field's previous value, or a ServiceNow approval record to request again.
 */
export const ReturnToSchema = z
  .object({
    status: z.string().min(1),
    field: z.object({ id: z.string().min(1), value: z.string().nullable() }),
    approval: z.string().min(1),
  })
  .partial();
export type ReturnTo = z.infer<typeof ReturnToSchema>;

/**
 * One piece of pending ticket work (the outbox): written in the same transaction as the audit
 * event that caused it, identified by that event's sequence number, so it exists exactly once.
 */
export const TicketWorkSchema = z.object({
  findingId: z.string(),
  /** The causing audit event's sequence number: the work's identity and its order. */
  seq: z.number().int().positive(),
  op: TicketOpSchema,
  /** What the ticket says about it (already redacted). */
  text: z.string(),
  /** The causing event's action, e.g. `sla.breached`. */
  action: z.string(),
  actor: z.string(),
  createdAt: z.string(),
  /** For `refuse`: where the ticket goes back to. */
  returnTo: ReturnToSchema.optional(),
  /** Attempts so far; above zero means an earlier attempt's outcome is unknown. */
  attempts: z.number().int().nonnegative().default(0),
  /**
   * The batch (one comment) this work was sent in, recorded before the call: a retry sends the
   * same batch under the same id, so the sink recognises its comment, and later work goes after it.
   */
  batch: z.string().optional(),
  lastError: z.string().optional(),
  /**
   * Where the store keeps it, set when it is read: the outbox item of the write that caused it (one
   * item per write, keyed by its first work's seq), its place in that item, and how many works the
   * item holds. Absent for work stored one item each (earlier versions).
   */
  page: z
    .object({
      seq: z.number().int().positive(),
      index: z.number().int().nonnegative(),
      of: z.number().int().positive(),
    })
    .optional(),
});
export type TicketWork = z.infer<typeof TicketWorkSchema>;

/** The identity of a work item, used as the idempotency key in the external system. */
export const workId = (w: Pick<TicketWork, 'findingId' | 'seq'>) => `${w.findingId}-${w.seq}`;

/**
 * A finding's ticket as the sync knows it: the intent (which sink, the label it is found by)
 * before the external call, the key after. `uncertain` means a create was sent and its answer
 * never came back: Jira may or may not hold the issue, so the next attempt looks first.
 */
export const TicketRecordSchema = z.object({
  findingId: z.string(),
  sink: SinkRefSchema,
  /** Jira label / ServiceNow correlation id the ticket is found by (lower-case finding id). */
  label: z.string(),
  key: z.string().optional(),
  url: z.string().optional(),
  createOutcome: z.enum(['not_sent', 'uncertain', 'rejected', 'created']).default('not_sent'),
  /**
   * The last event (seq) whose news the create call carried (owner, decision awaited, priority,
   * what happened so far): work up to it needs no comment. Recorded with the intent, so a crash
   * after the create does not turn it into comments.
   */
  foldedThrough: z.number().int().nonnegative().optional(),
  createAttempts: z.number().int().nonnegative().default(0),
  lastAttemptAt: z.string().optional(),
  /** A worker holding the lease may act on this ticket; others skip it until it expires. */
  leaseOwner: z.string().optional(),
  leaseUntil: z.string().optional(),
  lastError: z.string().optional(),
});
export type TicketRecord = z.infer<typeof TicketRecordSchema>;

/** The label (Jira) and correlation id (ServiceNow) of a finding's ticket. */
export const ticketLabel = (findingId: string) => `closeloop-${findingId.toLowerCase()}`;

/**
 * Decisions a person can take in a ticket (a Jira transition or decision field, a ServiceNow state
 * or approval record): `approve` and `reject` take the one decision the finding waits for.
 */
export const TICKET_DECISIONS = [
  'approve',
  'reject',
  'approve_remediation',
  'reject_remediation',
  'approve_exception',
  'reject_exception',
  'approve_false_positive',
  'reject_false_positive',
  'claim_false_positive',
] as const;
export const TicketDecisionSchema = z.enum(TICKET_DECISIONS);
export type TicketDecision = z.infer<typeof TicketDecisionSchema>;
