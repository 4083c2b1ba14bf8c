import { SingleTable } from '@core/store/table';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import { sfnSignaller } from './lifecycle-api';
import { lifecycleRuntime } from './shared/lifecycle-runtime';
import { logger, requiredEnv } from './shared/runtime';
import { ticketingSecret } from './shared/ticketing-runtime';
import { handleTicketWebhook } from './ticket-webhooks';
import { jiraWontDoResolutions } from '@connectors/sinks/jira/config';
import { servicenowInboundStates } from '@connectors/sinks/servicenow/config';

const runtime = lifecycleRuntime();
const tickets = new DynamoTicketStore(new SingleTable(new DynamoDBClient({}), requiredEnv('CLOSELOOP_TABLE')));

/** `POST /webhooks/jira|servicenow` (no IAM: authenticated by the HMAC signature of the raw body). */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const system = event.resource.endsWith('/servicenow') ? 'servicenow' : 'jira';
  const raw =
    event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : (event.body ?? '');
  const secret = await ticketingSecret();
  try {
    const result = await handleTicketWebhook(system, raw, event.headers as Record<string, string | undefined>, {
      ...runtime,
      signaller: sfnSignaller(runtime.sfn),
      tickets,
      secrets: {
        ...(secret.jiraWebhookSecret ? { jira: secret.jiraWebhookSecret } : {}),
        ...(secret.servicenowWebhookSecret ? { servicenow: secret.servicenowWebhookSecret } : {}),
      },
      jiraWontDo: jiraWontDoResolutions(process.env),
      servicenowStates: servicenowInboundStates(process.env),
    });
    return { statusCode: result.statusCode, headers: { 'content-type': 'application/json' }, body: result.body };
  } catch (err) {
    logger.error('webhook failed', { system, error: err as Error });
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'internal error; retry' }),
    };
  }
};
