import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { handleDecision } from '@connectors/api/decisions';
import { sfnSignaller } from '@connectors/aws/step-functions';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const { store, clock, policy } = lambdaServices();
const deps = { store, clock, policy, signaller: sfnSignaller(new SFNClient({})) };

/** The decisions API Lambda (API Gateway, IAM auth): FINDING_ROUTES in connectors/api/routes.ts. */
export const handler = (event: APIGatewayProxyEvent) =>
  handleDecision(event, deps, (message, error) => logger.error(message, { error }));
