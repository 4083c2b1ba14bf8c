import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, S3Event, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { UnreadableReportError } from '@core/errors';
import { sha256Of } from '@core/identity';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { reportKeyConvention } from '@connectors/sources/report-key';
import { applyCleanRescans } from '@core/lifecycle/rescan';
import { sfnSignaller } from './lifecycle-api';
import { policyFromEnv } from './shared/lifecycle-runtime';
import { lambdaRuntime, logger } from './shared/runtime';

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

const s3 = new S3Client({});
const runtime = lambdaRuntime();
const sfn = new SFNClient({});
const processor = new BatchProcessor(EventType.SQS);

/** Downloads one report to /tmp (streamed) and ingests it with the same code as the CLI. */
export async function ingestObject(bucket: string, key: string, deps = { s3, runtime, sfn }) {
  const dir = await mkdtemp(join(tmpdir(), 'report-'));
  const file = join(dir, key.split('/').pop() || 'report');
  const convention = reportKeyConvention(key);
  try {
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(object.Body as Readable, createWriteStream(file));
    const { total, scans } = await ingestReportFiles([file], {
      store: deps.runtime.store,
      clock: deps.runtime.clock,
      hasher: await deps.runtime.hasher(),
      ...convention,
    });
    logger.info('report ingested', { bucket, key, ...total, errors: total.errors.slice(0, 20) });
    // Findings waiting for their owner that this scan of their scope no longer reports resume (verify).
    const rescans = await applyCleanRescans(
      {
        store: deps.runtime.store,
        clock: deps.runtime.clock,
        policy: policyFromEnv(),
        signaller: sfnSignaller(deps.sfn),
      },
      scans,
    );
    if (rescans.length > 0) logger.info('clean re-scans', { findings: rescans.map((r) => r.findingId) });
    return total;
  } catch (err) {
    if (err instanceof UnreadableReportError) {
      // Retrying cannot fix a broken file: keep a quarantine entry naming it (the file stays in S3).
      logger.warn('report unreadable; quarantined', { bucket, key, problem: err.message });
      await deps.runtime.store.quarantine([
        {
          id: sha256Of('s3', bucket, key, err.message).slice(0, 32),
          receivedAt: deps.runtime.clock.now().toISOString(),
          file: `s3://${bucket}/${key}`,
          format: convention.format ?? 'unknown',
          recordNo: 0,
          problems: [err.message.replace(file, key)],
          redactedRecord: 'null',
        },
      ]);
      return undefined;
    }
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function recordHandler(record: SQSRecord): Promise<void> {
  const event = S3EventSchema.parse(JSON.parse(record.body)) as Partial<S3Event>;
  for (const r of event.Records ?? []) {
    // S3 URL-encodes keys in notifications, with "+" for spaces.
    const key = decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));
    await ingestObject(r.s3.bucket.name, key);
  }
}

/** SQS (S3 notifications) → ingest; failed messages are retried and end in the DLQ. */
export const handler = async (event: SQSEvent, context: Context) =>
  // Report every failed message (even when all failed) so SQS retries exactly those.
  processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
