import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SecretHasher } from '@core/finding/identity';
import type { FindingStore } from '@core/finding/ports';
import { quarantineUnreadableReport, type IngestSummary } from '@core/ingest/ingest';
import { applyCleanRescans, type CleanRescan } from '@core/lifecycle/rescan';
import type { DecisionDeps } from '@core/lifecycle/decisions';
import type { StartResult } from '@core/lifecycle/start';
import type { Clock } from '@core/shared/clock';
import { UnreadableReportError } from '@core/shared/errors';
import { ingestReportFiles } from '../sources/ingest-reports';
import { reportKeyConvention } from '../sources/report-key';

export interface S3ReportDeps {
  s3: S3Client;
  store: FindingStore;
  clock: Clock;
  hasher: () => Promise<SecretHasher>;
  /**
   * Clean re-scans resume the findings waiting for their owner that the report no longer names;
   * its `launcher` starts each new finding's lifecycle right after its commit.
   */
  decisions: DecisionDeps;
  /** Epoch ms after which no more lifecycles are started here (the invocation's end): the sweep starts the rest. */
  startUntil?: () => number;
}

/**
 * One report uploaded to S3: downloaded to /tmp (streamed), ingested with the same code as the
 * CLI, then treated as a re-scan of its scope. An unreadable report is quarantined (the file
 * stays in S3) and gives `undefined`; other failures throw, so the message is retried.
 */
export async function ingestS3Report(
  bucket: string,
  key: string,
  deps: S3ReportDeps,
): Promise<
  | { total: IngestSummary; rescans: CleanRescan[]; lifecycles: { started: number; deferred: number } }
  | { unreadable: string }
> {
  // Lifecycles started right after each commit, and those left for the sweep.
  const lifecycles = { started: 0, deferred: 0 };
  const dir = await mkdtemp(join(tmpdir(), 'report-'));
  const file = join(dir, key.split('/').pop() || 'report');
  // `<format>/<asset>/<name>`: how an empty report (a clean scan) says what it is and what it covered.
  const convention = reportKeyConvention(key);
  try {
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(object.Body as Readable, createWriteStream(file));
    const { total, scans } = await ingestReportFiles([file], {
      store: deps.store,
      clock: deps.clock,
      hasher: await deps.hasher(),
      ...convention,
      ...(deps.decisions.launcher ? { launcher: deps.decisions.launcher } : {}),
      ...(deps.startUntil ? { startUntil: deps.startUntil() } : {}),
      onStarted: (started: StartResult<unknown>) => {
        lifecycles.started += started.launched.length;
        lifecycles.deferred += started.deferred.length;
      },
    });
    return { total, rescans: await applyCleanRescans(deps.decisions, scans), lifecycles };
  } catch (err) {
    if (!(err instanceof UnreadableReportError)) throw err;
    const problem = err.message.replace(file, key);
    await quarantineUnreadableReport(deps, {
      name: `s3://${bucket}/${key}`,
      problem,
      identity: ['s3', bucket, key, err.message],
      ...(convention.format ? { format: convention.format } : {}),
    });
    return { unreadable: problem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
