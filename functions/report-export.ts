import { S3Client } from '@aws-sdk/client-s3';
import { runReportExport } from '@core/reports/exports';
import { s3ExportFiles } from '@connectors/aws/s3-export-files';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const services = lambdaServices();
const files = s3ExportFiles(new S3Client({}), services.config.require('CLOSELOOP_EXPORT_BUCKET'));

/**
 * The report export worker, invoked asynchronously by the report API with the export request:
 * computes the report at the request's instant and writes the file and its result to S3.
 */
export const handler = async (event: unknown) => {
  const result = await runReportExport(event, {
    source: services.reportSource(),
    policy: services.policy,
    files,
    now: () => services.clock.now(),
  });
  logger.info('report export', {
    id: (event as { id?: string }).id,
    ...(result.status === 'done'
      ? { status: result.status, bytes: result.bytes, rows: result.rows, sha256: result.sha256 }
      : result),
  });
  return { status: result.status };
};
