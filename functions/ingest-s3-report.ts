import { S3Client } from '@aws-sdk/client-s3';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, S3Event, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { ingestS3Report } from '@connectors/aws/s3-reports';
import { lambdaServices, logger } from '@connectors/wiring/lambda';
import { lambdaLifecycles } from '@connectors/wiring/lifecycle';

/** The S3 notification carried in each SQS message body. */
const S3EventSchema = z.object({
  Records: z
    .array(
      z.object({
        s3: z.object({
          bucket: z.object({ name: z.string().min(1) }),
          object: z.object({ key: z.string().min(1), size: z.number().optional() }),
        }),
      }),
    )
    .optional(),
  Event: z.string().optional(), // s3:TestEvent sent when the notification is created
});

const services = lambdaServices();
const deploymentKey = services.deploymentKey();
const { store, clock } = services;
/** Lifecycles are started until this long before the invocation ends; the sweep starts the rest. */
const START_RESERVE_MS = 30_000;
let invocationEnds = () => Date.now() + 60_000;
const deps = {
  s3: new S3Client({}),
  store,
  clock,
  hasher: () => deploymentKey.hasher(),
  // Each new finding's lifecycle starts right after its commit (StartExecution, idempotent by name).
  decisions: lambdaLifecycles(services).decisions,
  startUntil: () => invocationEnds() - START_RESERVE_MS,
};
const processor = new BatchProcessor(EventType.SQS);

async function recordHandler(record: SQSRecord): Promise<void> {
  const event = S3EventSchema.parse(JSON.parse(record.body)) as Partial<S3Event>;
  for (const r of event.Records ?? []) {
    // S3 URL-encodes keys in notifications, with "+" for spaces.
    const key = decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));
    const bucket = r.s3.bucket.name;
    const result = await ingestS3Report(bucket, key, deps);
    if ('unreadable' in result) {
      logger.warn('report unreadable; quarantined', { bucket, key, problem: result.unreadable });
      continue;
    }
    const { total, rescans, lifecycles } = result;
    logger.info('report ingested', { bucket, key, ...total, errors: total.errors.slice(0, 20), lifecycles });
    if (rescans.length > 0) logger.info('clean re-scans', { findings: rescans.map((r) => r.findingId) });
  }
}

/** SQS (S3 notifications) → ingest; failed messages are retried and end in the DLQ. */
export const handler = async (event: SQSEvent, context: Context) => {
  invocationEnds = () => Date.now() + context.getRemainingTimeInMillis();
  // Report every failed message (even when all failed) so SQS retries exactly those.
  return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
};
