import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  handleExportRequest,
  handleExportStatus,
  handleReportRequest,
  type ReportExportDeps,
} from '@connectors/api/reports';
import { s3ExportFiles } from '@connectors/aws/s3-export-files';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const services = lambdaServices();
const lambda = new LambdaClient({});
const exportFunction = services.config.require('CLOSELOOP_REPORT_EXPORT_FUNCTION');
const exportDeps: ReportExportDeps = {
  files: s3ExportFiles(new S3Client({}), services.config.require('CLOSELOOP_EXPORT_BUCKET')),
  clock: services.clock,
  // Asynchronous invoke: Lambda queues it, retries twice, and the export worker's failures alarm.
  start: async (request) => {
    await lambda.send(
      new InvokeCommand({
        FunctionName: exportFunction,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(request)),
      }),
    );
  },
};
const reportDeps = {
  source: services.reportSource,
  policy: services.policy,
  clock: services.clock,
  cursorKey: services.reportCursorKey(),
};

/** The report API Lambda (API Gateway, IAM auth; the auditor role may call only these routes). */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  // The caller's full ARN (with its session): who read or exported, as IAM authenticated them.
  const by = event.requestContext?.identity?.userArn ?? 'unknown';
  let result: APIGatewayProxyResult;
  if (event.resource === '/reports/{kind}/exports' && event.httpMethod === 'POST')
    result = await handleExportRequest(event, by, exportDeps);
  else if (event.resource === '/reports/exports/{id}')
    result = await handleExportStatus(event.pathParameters?.id, exportDeps);
  else result = await handleReportRequest(event, reportDeps);
  // Who read or exported which report is itself worth keeping.
  logger.info('report read', {
    by,
    route: `${event.httpMethod} ${event.resource}`,
    kind: event.pathParameters?.kind,
    export: event.pathParameters?.id,
    status: result.statusCode,
  });
  return result;
};
