import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const services = lambdaServices();
const queueUrl = services.config.require('CLOSELOOP_TICKET_QUEUE_URL');
const sqs = new SQSClient({});

/**
 * Scheduled (every minute): one SQS message per finding with pending ticket work. The outbox in
 * DynamoDB is the truth; a lost or duplicate message only delays or repeats an idempotent sync.
 */
export const handler = async () => {
  const ids = [...new Set((await services.tickets.pendingWork(1000)).map((w) => w.findingId))];
  for (let i = 0; i < ids.length; i += 10) {
    const entries = ids
      .slice(i, i + 10)
      .map((findingId, n) => ({ Id: String(n), MessageBody: JSON.stringify({ findingId }) }));
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    if (out.Failed?.length)
      logger.warn('some ticket nudges were not queued; the next run sends them again', { failed: out.Failed.length });
  }
  logger.info('ticket outbox relay', { findings: ids.length });
  return { findings: ids.length };
};
