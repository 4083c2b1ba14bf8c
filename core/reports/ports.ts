import type { AuditEvent } from '../audit/chain';
import type { Finding, FindingStatus } from '../finding/model';
import type { ManagedSecretRecord } from '../rotation/managed-secrets';
import type { ExpiredExceptionRecord } from '../finding/history';

/** What the reports read, and what reading it cost (DynamoDB requests and read capacity units). */
export interface ReportReads {
  requests: number;
  readUnits: number;
}

/**
 * The reports' view of the store: every method is one access pattern served by a GSI Query
 * (or the finding's own partition), never a Scan. See README "Reports" for the mapping.
 */
export interface ReportSource {
  /** Findings with these statuses (byStatus, one partition per status). */
  findings(statuses: readonly FindingStatus[]): Promise<Finding[]>;
  /** One owner's open work, by due date (byOwnerDue). */
  openOf(owner: string): Promise<Finding[]>;
  /** One owner's closed findings (resolved, false positive), closed since `since` (byOwnerDue `CLOSED#<owner>`). */
  closedOf(owner: string, since?: string): Promise<Finding[]>;
  /** One owner's accepted risks, soonest expiry first (byOwnerDue `ACCEPTED#<owner>`). */
  acceptedOf(owner: string): Promise<Finding[]>;
  /** Exceptions that expired while still exposed, since `since` (byStatus `EXCEPTIONS#expired`). */
  expiredExceptions(since?: string): Promise<ExpiredExceptionRecord[]>;
  /** Managed secrets, least recently rotated first (byStatus `MANAGED_SECRETS`). */
  managedSecrets(): Promise<ManagedSecretRecord[]>;
  /** A finding and its audit trail (its own partition). */
  trail(findingId: string): Promise<{ finding?: Finding; events: AuditEvent[] }>;
  /** Audit events in [from, to), optionally of one actor (byTimer `EVENTDAY#<day>#<shard>`, a Query per day and shard). */
  eventsBetween(from: string, to: string, actor?: string): Promise<AuditEvent[]>;
  /** Requests and read units used so far. */
  reads(): ReportReads;
}
