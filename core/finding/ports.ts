import type { AuditEvent } from '../audit/chain';
import type { Notice } from '../notify/model';
import type { TicketWork } from '../tickets/model';
import type { WritebackWork } from '../writeback/model';
import type { ExpiredExceptionRecord } from './history';
import type { Finding, FindingStatus } from './model';
import type { WaitingEntry } from './waiting';

/**
 * A finding write: the new head, the events it appends, guarded by the version it replaces, and
 * what the write owes with them (see `findingWrite`, which fills `outbox` and `history`). All of
 * it is written atomically.
 */
export interface FindingWrite {
  finding: Finding;
  /** The version read before merging; `null` when the finding must not exist yet. */
  expectedVersion: number | null;
  events: AuditEvent[];
  /** External ids to point at this finding (written with the finding). */
  aliases: string[];
  /** The ticket work the events cause: a transition is never recorded without it, nor the reverse. */
  outbox: TicketWork[];
  /** What the events tell the scanners that reported the finding (the write-back outbox). */
  writeback?: WritebackWork[];
  /** What the events tell people outside the ticket (SLA breaches, approvals waiting, …), routed by the notifier. */
  notices: Notice[];
  /** History kept beside the finding: the exception that expired with this write. */
  history: ExpiredExceptionRecord[];
}

/** A rejected record, redacted, kept so nothing is lost. */
export interface QuarantineEntry {
  /** Digest of (format, report, record number, redacted record): one per record; re-ingesting a report rewrites its entries. */
  id: string;
  receivedAt: string;
  file: string;
  format: string;
  recordNo: number;
  problems: string[];
  /** The record with secrets removed, as JSON text. */
  redactedRecord: string;
}

/** The system of record for findings (DynamoDB in production and locally). */
export interface FindingStore {
  /** Findings by id; missing ids are absent from the map. */
  getMany(ids: string[]): Promise<Map<string, Finding>>;
  get(id: string): Promise<Finding | undefined>;
  /** Finding ids for external ids. */
  resolveAliases(keys: string[]): Promise<Map<string, string>>;
  /**
   * Writes each finding with its events atomically. Returns the ids whose guard failed
   * (another writer got there first); those writes were not applied, all others were.
   */
  commit(writes: FindingWrite[]): Promise<{ conflicts: string[] }>;
  /** Findings, optionally only those with one status; by severity then due date. */
  list(filter?: { status?: FindingStatus }): Promise<Finding[]>;
  events(findingId: string): Promise<AuditEvent[]>;
  /** Findings whose lifecycle timer is due at or before `now` (ISO-8601), soonest first. */
  dueTimers(now: string): Promise<Finding[]>;
  /**
   * Findings whose current generation awaits its lifecycle (core/lifecycle/start.ts
   * `awaitsLifecycle`), page by page from a sparse index: what the sweep reads costs O(unstarted),
   * not O(open), and its memory one page.
   */
  awaitingLifecycle(): AsyncIterable<Finding[]>;
  /**
   * Findings waiting for their owner's fix (core/finding/waiting.ts) in these scopes, from a sparse
   * index: only those whose entry `match` accepts are read, in full and consistently, so a report's
   * clean re-scan costs O(waiting in what it scanned), not O(open). The index may lag a write by
   * moments: callers check what they get again (`waitsForOwner`).
   */
  waitingForOwner(scopes: Iterable<string>, match: (entry: WaitingEntry) => boolean): Promise<Finding[]>;
  quarantine(entries: QuarantineEntry[]): Promise<void>;
  listQuarantine(): Promise<QuarantineEntry[]>;
}
