import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, S3Event, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { ingestS3Report } from '@connectors/aws/s3-reports';
import { sfnSignaller } from '@connectors/aws/step-functions';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

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
const { store, clock, policy } = services;
const deps = {
  s3: new S3Client({}),
  store,
  clock,
  hasher: () => deploymentKey.hasher(),
  decisions: { store, clock, policy, signaller: sfnSignaller(new SFNClient({})) },
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
    const { total, rescans } = result;
    logger.info('report ingested', { bucket, key, ...total, errors: total.errors.slice(0, 20) });
    if (rescans.length > 0) logger.info('clean re-scans', { findings: rescans.map((r) => r.findingId) });
  }
}

/** SQS (S3 notifications) → ingest; failed messages are retried and end in the DLQ. */
export const handler = async (event: SQSEvent, context: Context) =>
  // Report every failed message (even when all failed) so SQS retries exactly those.
  processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
