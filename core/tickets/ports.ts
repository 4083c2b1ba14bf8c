import type { Finding } from '../finding/model';
import type { SinkRef, TicketRecord, TicketWork } from './model';

/** Where the sync keeps ticket state: the outbox of pending work and each finding's ticket record. */
export interface TicketStore {
  /** Pending work, oldest first. */
  pendingWork(limit: number): Promise<TicketWork[]>;
  /** Number of pending work items (for `sync`'s exit status), counted up to `cap`. */
  countPending(cap?: number): Promise<number>;
  /** Before an external call for this work: its attempt count goes up, so a retry knows to look first. */
  markWorkAttempted(work: TicketWork): Promise<void>;
  /** The work is done in the external system: it leaves the outbox. */
  completeWork(work: TicketWork, at: string): Promise<void>;
  /** The external system refused or failed: the work stays pending with the reason. */
  failWork(work: TicketWork, error: string): Promise<void>;
  tickets(findingIds: string[]): Promise<Map<string, TicketRecord>>;
  /**
   * Takes the finding's ticket lease for `worker` until `leaseUntil`, creating the record (the
   * intent) on first use. Returns the record, or `undefined` when another worker holds it.
   */
  claimTicket(
    findingId: string,
    sink: SinkRef,
    worker: string,
    now: string,
    leaseUntil: string,
  ): Promise<TicketRecord | undefined>;
  /** Before a create call: the outcome becomes `uncertain` until the answer is recorded. */
  markCreateSent(findingId: string, worker: string, at: string): Promise<void>;
  /** The ticket exists: its key is recorded once (a second, different key is refused). */
  recordTicketKey(findingId: string, system: SinkRef['kind'], key: string, url: string | undefined): Promise<void>;
  markCreateRejected(findingId: string, reason: string): Promise<void>;
  releaseTicket(findingId: string, worker: string): Promise<void>;
  /** The finding a ticket key belongs to (inbound webhooks). */
  findingForTicketKey(system: string, key: string): Promise<string | undefined>;
  /**
   * Records an inbound webhook delivery; `false` when it was recorded before (a replay), so
   * the caller does nothing. `forget` marks it failed when processing failed, so a retry is accepted.
   */
  recordDelivery(source: string, deliveryId: string, at: string): Promise<boolean>;
  forgetDelivery(source: string, deliveryId: string): Promise<void>;
  /** Counts an inbound event that changed nothing, per system and reason (e.g. a key that is no finding's ticket). */
  countIgnored(source: string, reason: string, at: string): Promise<void>;
  /** The counts `countIgnored` kept for a system, by reason. */
  ignoredCounts(source: string): Promise<Record<string, number>>;
}

/** What a ticket says when it is created: built from the finding, rendered by each sink. */
export interface TicketDraft {
  findingId: string;
  label: string;
  finding: Finding;
  /** The owner as the policy names them (an email can become a Jira assignee). */
  owner: string;
  dueDate: string;
  summary: string;
  sections: Array<{ heading: string; lines: string[] }>;
}

export type CreateResult =
  | { findingId: string; status: 'created'; key: string; url?: string }
  | { findingId: string; status: 'rejected'; reason: string };

/** An update to an existing ticket. `retry` is set when an earlier attempt's outcome is unknown. */
export interface TicketUpdate {
  workId: string;
  op: Exclude<TicketWork['op'], 'create'>;
  text: string;
  finding: Finding;
  retry: boolean;
}

/**
 * A ticketing system (Jira, ServiceNow, the local tracker). Creates must be safe to follow
 * with `find`: an uncertain create is reconciled by looking the label up before creating again.
 */
export interface TicketSink {
  readonly kind: SinkRef['kind'];
  /**
   * How long after a create `find` may still miss the ticket (Jira's search is eventually
   * consistent; 0 for a store that reads its own writes).
   */
  readonly lookupLagMs: number;
  /** At most `maxBatch` drafts per call. Throws `AmbiguousOutcomeError` when the answer was lost. */
  readonly maxBatch: number;
  create(drafts: TicketDraft[], sink: SinkRef): Promise<CreateResult[]>;
  /** Tickets that exist for these findings' labels, by finding id. */
  find(findingIds: string[], sink: SinkRef): Promise<Map<string, { key: string; url?: string }>>;
  update(key: string, update: TicketUpdate): Promise<void>;
}
