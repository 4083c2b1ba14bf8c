import { z } from 'zod';
import { CloseloopError } from '../shared/errors';
import { RiskExceptionSchema, SeveritySchema, type Finding } from '../finding/model';
import type { FindingWrite } from '../finding/ports';

/**
 * Exceptions that expired while the exposure remained, kept as small history items in the
 * finding's partition (`EXPIRED_EXCEPTION#<expiredAt>`) and listed through byStatus partition
 * `EXCEPTIONS#expired` sorted by expiry. The finding itself moves on (reopened, fixed, accepted
 * again); the auditor's "expired and reopened" list must not move with it, and must not cost a
 * read of every reopened finding.
 */
export const EXPIRED_EXCEPTIONS_PARTITION = 'EXCEPTIONS#expired';

export const ExpiredExceptionRecordSchema = RiskExceptionSchema.extend({
  findingId: z.string(),
  severity: SeveritySchema,
  owner: z.string().optional(),
  expiredAt: z.string(),
  /** The due date the reopened finding got when the exception expired. */
  dueAt: z.string().optional(),
});
export type ExpiredExceptionRecord = z.infer<typeof ExpiredExceptionRecordSchema>;

/** The history item for a finding whose exception has just expired (`expiredException` set). */
export function toExpiredExceptionItem(finding: Finding): Record<string, unknown> {
  const ended = finding.expiredException;
  if (!ended) throw new CloseloopError(`finding ${finding.id} has no expired exception`);
  const record: ExpiredExceptionRecord = {
    ...ended,
    findingId: finding.id,
    severity: finding.severity,
    ...(finding.owner ? { owner: finding.owner } : {}),
    ...(finding.dueAt ? { dueAt: finding.dueAt } : {}),
  };
  return {
    pk: `FINDING#${finding.id}`,
    sk: `EXPIRED_EXCEPTION#${ended.expiredAt}`,
    type: 'expired_exception',
    ...record,
    gsi1pk: EXPIRED_EXCEPTIONS_PARTITION,
    gsi1sk: `${ended.expiredAt}#${finding.id}`,
  };
}

/**
 * History items a write owes: one when it moves the finding out of an accepted risk because the
 * exception expired (the write that sets `expiredException`, at the same instant as its event).
 */
export function exceptionHistoryFor(write: FindingWrite): Record<string, unknown>[] {
  const ended = write.finding.expiredException;
  const expiresNow =
    ended !== undefined &&
    write.events.some(
      (e) => e.from === 'risk_accepted' && e.to !== undefined && e.to !== 'risk_accepted' && e.at === ended.expiredAt,
    );
  return expiresNow ? [toExpiredExceptionItem(write.finding)] : [];
}
