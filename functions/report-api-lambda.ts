import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DynamoReportSource } from '@core/store/dynamo-report-source';
import { principalName } from './lifecycle-api';
import { handleReportRequest } from './report-api';
import { lifecycleRuntime } from './shared/lifecycle-runtime';
import { logger, requiredEnv } from './shared/runtime';

const runtime = lifecycleRuntime();
const client = new DynamoDBClient({});
const tableName = requiredEnv('CLOSELOOP_TABLE');

/** The report API Lambda (API Gateway, IAM auth; the auditor role may call only this). */
export const handler = async (event: APIGatewayProxyEvent) => {
  const result = await handleReportRequest(event, { source: () => new DynamoReportSource(client, tableName), policy: runtime.policy, clock: runtime.clock });
  // Who read which report is itself worth keeping.
  logger.info('report read', { by: event.requestContext?.identity?.userArn ? principalName(event.requestContext.identity.userArn) : 'unknown', kind: event.pathParameters?.kind, status: result.statusCode });
  return result;
};
