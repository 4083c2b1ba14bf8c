import type { AuditEvent } from './audit';
import type { Finding, FindingStatus } from './model';

/** A finding write: the new head, the events it appends, guarded by the version it replaces. */
export interface FindingWrite {
  finding: Finding;
  /** The version read before merging; `null` when the finding must not exist yet. */
  expectedVersion: number | null;
  events: AuditEvent[];
  /** External ids to point at this finding (written with the finding). */
  aliases: string[];
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
  quarantine(entries: QuarantineEntry[]): Promise<void>;
  listQuarantine(): Promise<QuarantineEntry[]>;
}

/** Where pull connectors keep their position so re-runs continue instead of starting over. */
export interface CursorStore {
  getCursor(connector: string, scope: string): Promise<string | undefined>;
  putCursor(connector: string, scope: string, cursor: string): Promise<void>;
}
