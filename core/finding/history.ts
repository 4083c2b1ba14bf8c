import { z } from 'zod';
import type { AuditEvent } from '../audit/chain';
import { RiskExceptionSchema, SeveritySchema, type Finding } from './model';

/**
 * An exception that expired while the exposure remained, kept as a small history item of its
 * own (the exceptions report). The finding itself moves on (reopened, fixed, accepted again);
 * the auditor's "expired and reopened" list must not move with it, and must not cost a read of
 * every reopened finding.
 */
export const ExpiredExceptionRecordSchema = RiskExceptionSchema.extend({
  findingId: z.string(),
  severity: SeveritySchema,
  owner: z.string().optional(),
  expiredAt: z.string(),
  /** The due date the reopened finding got when the exception expired. */
  dueAt: z.string().optional(),
});
export type ExpiredExceptionRecord = z.infer<typeof ExpiredExceptionRecordSchema>;

/**
 * The history a write owes: a record when it moves the finding out of an accepted risk because
 * the exception expired (the write that sets `expiredException`, at the same instant as its event).
 */
export function expiredExceptionsOf(finding: Finding, events: readonly AuditEvent[]): ExpiredExceptionRecord[] {
  const ended = finding.expiredException;
  const expiresNow =
    ended !== undefined &&
    events.some(
      (e) => e.from === 'risk_accepted' && e.to !== undefined && e.to !== 'risk_accepted' && e.at === ended.expiredAt,
    );
  return expiresNow ? [expiredExceptionRecord(finding, ended)] : [];
}

/** The history record of a finding's expired exception. */
export function expiredExceptionRecord(
  finding: Finding,
  ended: NonNullable<Finding['expiredException']>,
): ExpiredExceptionRecord {
  return {
    ...ended,
    findingId: finding.id,
    severity: finding.severity,
    ...(finding.owner ? { owner: finding.owner } : {}),
    ...(finding.dueAt ? { dueAt: finding.dueAt } : {}),
  };
}
