import type { APIGatewayProxyEvent } from 'aws-lambda';
import { handleDecision, sfnSignaller } from './lifecycle-api';
import { lifecycleRuntime } from './shared/lifecycle-runtime';

const runtime = lifecycleRuntime();

/** The decisions API Lambda (API Gateway, IAM auth): routes in lifecycle-api.ts. */
export const handler = (event: APIGatewayProxyEvent) =>
  handleDecision(event, {
    store: runtime.store,
    clock: runtime.clock,
    policy: runtime.policy,
    signaller: sfnSignaller(runtime.sfn),
  });
