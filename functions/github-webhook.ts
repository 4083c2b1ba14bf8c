import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { handleGithubWebhook } from '@connectors/api/github-webhook';
import { lambdaLifecycles } from '@connectors/wiring/lifecycle';
import { lambdaSourceCredentials } from '@connectors/wiring/sources';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const services = lambdaServices();
const deploymentKey = services.deploymentKey();
const credentials = lambdaSourceCredentials(services);
// The decisions with the launcher: a new alert's lifecycle starts right after its commit.
const base = { ...lambdaLifecycles(services).decisions, tickets: services.tickets };

/** `POST /webhooks/github` (no IAM: authenticated by the X-Hub-Signature-256 HMAC of the raw body). */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const raw =
    event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : (event.body ?? '');
  try {
    const secret = (await credentials.read()).githubWebhookSecret;
    const result = await handleGithubWebhook(raw, event.headers as Record<string, string | undefined>, {
      ...base,
      hasher: await deploymentKey.hasher(),
      ...(secret ? { secret } : {}),
    });
    return { statusCode: result.statusCode, headers: { 'content-type': 'application/json' }, body: result.body };
  } catch (err) {
    logger.error('github webhook failed', { delivery: event.headers['X-GitHub-Delivery'], error: err as Error });
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'internal error; redeliver' }),
    };
  }
};
