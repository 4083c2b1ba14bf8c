import type { Finding } from '../finding/model';
import type { FindingWrite } from '../finding/ports';
import type { ReturnTo, SinkRef, TicketRecord, TicketWork } from './model';

/** Where the sync keeps ticket state: the outbox of pending work and each finding's ticket record. */
export interface TicketStore {
  /** Pending work, oldest first. */
  pendingWork(limit: number): Promise<TicketWork[]>;
  /** Number of pending work items (for `sync`'s exit status), counted up to `cap`. */
  countPending(cap?: number): Promise<number>;
  /**
   * Before an external call for this work: its attempt count goes up, so a retry knows to look
   * first, and the batch it is sent in is recorded (kept if one was recorded before).
   */
  markWorkAttempted(work: TicketWork, batch: string): Promise<void>;
  /**
   * The works are done in the external system: they leave the outbox. Called by the holder of the
   * findings' ticket leases, so nothing else writes those works meanwhile: the store may write
   * them without a condition (the DynamoDB store batches them).
   */
  completeWork(works: TicketWork[], at: string): Promise<void>;
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
  /**
   * Before a create call: the outcome becomes `uncertain` until the answer is recorded, and
   * `foldedThrough` says up to which event the create tells everything (see TicketRecord).
   */
  markCreateSent(findingId: string, worker: string, at: string, foldedThrough: number): Promise<void>;
  /**
   * The ticket exists: its key is recorded once (a second, different key is refused), with the
   * alias a webhook naming the key finds the finding by (not for the local tracker, which sends none).
   */
  recordTicketKey(findingId: string, system: SinkRef['kind'], key: string, url: string | undefined): Promise<void>;
  markCreateRejected(findingId: string, reason: string): Promise<void>;
  /**
   * A ticket of a sink that keeps its tickets in this store (`TicketSink.stage`): the ticket, its
   * key on the record (with `foldedThrough`, as `markCreateSent` would have) and the finding's
   * `link` are written in one atomic write. (No key alias: no system sends webhooks about it.) Nothing leaves the store, so there is no
   * outcome to be uncertain of and no lease to hold around a call: the write's guards do what they
   * do for a remote create. It is applied only when the record has no key, no create was sent
   * (`not_sent`), and no other worker holds the lease; it returns
   * - `created`: all of it was written;
   * - `taken`: the record has a key, a create in flight or another worker's lease (nothing written);
   * - `exists`: the sink's own guard says the finding has a ticket already (nothing written);
   * - `changed`: the finding is no longer the version `link` was made from (nothing written; re-read).
   */
  recordStoredTicket(
    ticket: StagedTicket,
    context: { sink: SinkRef; worker: string; now: string; foldedThrough: number; link: FindingWrite | undefined },
  ): Promise<'created' | 'taken' | 'exists' | 'changed'>;
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

/** The decision a finding waits for, and the role that may take it (see `awaitedDecision`). */
export interface AwaitedDecision {
  kind: 'approval' | 'exception' | 'false_positive' | 'owner_fix' | 'none';
  /** The approver role it needs, for approvals, exceptions and false-positive claims. */
  role?: string;
  /** The principals holding that role, with their ticketing identities (a sink may ask them directly). */
  deciders?: Array<{ name: string; jira: string[]; servicenow: string[] }>;
  /** One line for people. */
  text: string;
}

/**
 * What a ticket says when it is created: built from the finding (and the events it was created
 * after), rendered by each sink. Everything known at creation is here, so no comment follows the
 * create: the owner (or why there is none), the decision awaited and who may take it, the due
 * date, the evidence required, and what happened so far.
 */
export interface TicketDraft {
  findingId: string;
  label: string;
  finding: Finding;
  /** The owner as the policy names them (an email can become a Jira assignee). */
  owner: string;
  /** No owner matched: the finding is in the identity programme's queue. */
  unowned: boolean;
  awaiting: AwaitedDecision;
  /** Already overdue or escalated before the ticket existed: created one priority step up. */
  escalated: boolean;
  dueDate: string;
  summary: string;
  sections: Array<{ heading: string; lines: string[] }>;
}

/**
 * A ticket of a sink that keeps its tickets in the hub's own store, numbered but not yet written
 * (see `TicketSink.stage`).
 */
export interface StagedTicket {
  findingId: string;
  key: string;
  /**
   * The sink's writes, in the store's own terms (the local tracker: DynamoDB transaction items).
   * The first is the sink's guard that a finding has one ticket at most.
   */
  writes: readonly unknown[];
}

export type CreateResult =
  | { findingId: string; status: 'created'; key: string; url?: string }
  | { findingId: string; status: 'rejected'; reason: string };

/**
 * An update to an existing ticket: the work of one sync round for it, as one comment (`text`, a
 * line per event, oldest first) and at most one change of priority and of state. `op` is the
 * strongest change in the batch (a transition over an escalation over a comment). `workId`
 * identifies the batch; `retry` is set when an earlier attempt's outcome is unknown.
 */
export interface TicketUpdate {
  workId: string;
  op: Exclude<TicketWork['op'], 'create'>;
  text: string;
  finding: Finding;
  retry: boolean;
  /** Raise the priority one step (an SLA breach or an approval timeout is in the batch). */
  escalate: boolean;
  /** For `refuse`: where the ticket goes back to (the state it waits in). */
  returnTo?: ReturnTo;
  /** Set when the batch starts or refuses a decision: what the finding waits for now, and who may decide. */
  awaiting?: AwaitedDecision;
  /**
   * Set when the batch ends a decision the ticket waited for (taken in this system, another or
   * closeloop): what the finding waits for now. When that is no decision, a sink that asked people
   * to decide (ServiceNow approval records) withdraws what is still asked.
   */
  decided?: AwaitedDecision;
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
  /**
   * Only a sink whose tickets live in the hub's own store (the local tracker): the tickets for
   * these drafts, numbered, for `TicketStore.recordStoredTicket` to write atomically with the
   * finding's link. The sync then creates them with one write each instead of the lease, intent,
   * create, key and release steps a remote system needs.
   */
  stage?(drafts: TicketDraft[], sink: SinkRef): Promise<StagedTicket[]>;
}
