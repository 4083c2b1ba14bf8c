import type { Context } from 'aws-lambda';
import { DynamoWritebackStore } from '@core/store/dynamo-writeback-store';
import { syncWriteback, WritebackStuckError } from '@core/writeback/sync';
import { lambdaWriteback } from '@connectors/wiring/sources';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const services = lambdaServices();
const writeback = lambdaWriteback(services);
const work = new DynamoWritebackStore(services.table);

/**
 * Scheduled (every minute): tells the scanners what became of their findings (GitHub, GitGuardian,
 * Security Hub), exactly once per record. Failed writes stay in the outbox and back off; when some
 * keep failing for hours the run fails, so Lambda's retries end in the dead-letter queue and its
 * alarm, while the work itself stays pending and is tried again.
 */
export const handler = async (_event: unknown, context: Context) => {
  logger.addContext(context);
  const { store, clock, policy } = services;
  const result = await syncWriteback(
    { store, work, clock, policy, writers: await writeback.writers(), worker: `lambda-${context.awsRequestId}` },
    { deadlineMs: Math.max(5_000, context.getRemainingTimeInMillis() - 30_000) },
  );
  logger.info('write-back', { ...result, problems: result.problems.slice(0, 20) });
  if (result.stuck > 0) throw new WritebackStuckError(result);
  return { written: result.written, skipped: result.skipped, pending: result.pending };
};
