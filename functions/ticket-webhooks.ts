import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { handleTicketWebhook } from '@connectors/api/webhooks';
import { sfnSignaller } from '@connectors/aws/step-functions';
import { lambdaServices, logger } from '@connectors/wiring/lambda';
import { checkSinkSettings, webhookSettings } from '@connectors/wiring/ticketing';

const services = lambdaServices();
checkSinkSettings(services.config);
const credentials = services.ticketingCredentials();
const base = {
  store: services.store,
  clock: services.clock,
  policy: services.policy,
  signaller: sfnSignaller(new SFNClient({})),
  tickets: services.tickets,
  ...webhookSettings(services.config),
};

/** `POST /webhooks/jira|jira-dc|servicenow` (no IAM: authenticated by the HMAC signature of the raw body). */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const system = event.resource.endsWith('/servicenow')
    ? 'servicenow'
    : event.resource.endsWith('/jira-dc')
      ? 'jira-dc'
      : 'jira';
  const raw =
    event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : (event.body ?? '');
  const secret = await credentials.read();
  try {
    const result = await handleTicketWebhook(system, raw, event.headers as Record<string, string | undefined>, {
      ...base,
      secrets: {
        ...(secret.jiraWebhookSecret ? { jira: secret.jiraWebhookSecret } : {}),
        ...(secret.jiraDcWebhookSecret ? { 'jira-dc': secret.jiraDcWebhookSecret } : {}),
        ...(secret.servicenowWebhookSecret ? { servicenow: secret.servicenowWebhookSecret } : {}),
      },
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
