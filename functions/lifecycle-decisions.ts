import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { fromHttpApi, fromRestApi, handleDecision } from '@connectors/api/decisions';
import { sfnSignaller } from '@connectors/aws/step-functions';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const { store, clock, policy } = lambdaServices();
const deps = { store, clock, policy, signaller: sfnSignaller(new SFNClient({})) };

/**
 * The decisions API Lambda: FINDING_ROUTES in connectors/api/routes.ts, behind IAM auth (the REST
 * API, for machines and AWS sessions) and, when the policy names an identity provider, behind its
 * JWT authorizer (the people's HTTP API, payload 2.0).
 */
export const handler = (event: APIGatewayProxyEvent | APIGatewayProxyEventV2WithJWTAuthorizer) =>
  handleDecision(
    'version' in event && event.version === '2.0'
      ? fromHttpApi(event, policy.identity.oidc)
      : fromRestApi(event as APIGatewayProxyEvent),
    deps,
    (message, error) => logger.error(message, { error }),
  );
