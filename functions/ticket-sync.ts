import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { FindingIdSchema } from '@core/finding/identity';
import { CloseloopError } from '@core/shared/errors';
import { syncTickets } from '@core/tickets/sync';
import { lambdaServices, logger } from '@connectors/wiring/lambda';
import { lambdaTicketing, ticketSync } from '@connectors/wiring/ticketing';

const processor = new BatchProcessor(EventType.SQS);
const Message = z.object({ findingId: FindingIdSchema });

const services = lambdaServices();
const ticketing = lambdaTicketing(services);

/**
 * Ticket sync (SQS, from the outbox relay): one bulk sync for the whole batch, then each message
 * succeeds if its finding has nothing pending, or fails (SQS retries it; the DLQ and its alarm
 * catch what never goes through). Exactly once comes from the sync's leases and intents, so a
 * redelivered message is harmless.
 */
export const handler = async (event: SQSEvent, context: Context) => {
  const { store, tickets, clock, policy } = services;
  const deps = ticketSync(await ticketing.ticketing(), {
    store,
    tickets,
    clock,
    policy,
    worker: `lambda-${context.awsRequestId}`,
  });
  const result = await syncTickets(deps, { deadlineMs: Math.max(5_000, context.getRemainingTimeInMillis() - 30_000) });
  logger.info('ticket sync', {
    created: result.created,
    updated: result.updated,
    pending: result.pending,
    problems: result.problems.slice(0, 20),
  });
  const pending = new Set((await tickets.pendingWork(1000)).map((w) => w.findingId));
  return processPartialResponse(
    event,
    async (record: SQSRecord) => {
      const { findingId } = Message.parse(JSON.parse(record.body));
      if (pending.has(findingId)) throw new CloseloopError(`${findingId}: ticket work still pending`);
    },
    processor,
    { context, throwOnFullBatchFailure: false },
  );
};
