import { SingleTable } from '@core/store/table';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { s3ExportFiles } from '@connectors/aws/s3-export-files';
import { runReportExport } from '@core/reports/exports';
import { DynamoReportSource } from '@core/store/dynamo-report-source';
import { lifecycleRuntime } from './shared/lifecycle-runtime';
import { logger, requiredEnv } from './shared/runtime';

const runtime = lifecycleRuntime();
const client = new DynamoDBClient({});
const tableName = requiredEnv('CLOSELOOP_TABLE');
const files = s3ExportFiles(new S3Client({}), requiredEnv('CLOSELOOP_EXPORT_BUCKET'));

/**
 * The report export worker, invoked asynchronously by the report API with the export request:
 * computes the report at the request's instant and writes the file and its result to S3.
 */
export const handler = async (event: unknown) => {
  const result = await runReportExport(event, {
    source: new DynamoReportSource(new SingleTable(client, tableName)),
    policy: runtime.policy,
    files,
    now: () => runtime.clock.now(),
  });
  logger.info('report export', {
    id: (event as { id?: string }).id,
    ...(result.status === 'done'
      ? { status: result.status, bytes: result.bytes, rows: result.rows, sha256: result.sha256 }
      : result),
  });
  return { status: result.status };
};
