import type { Context } from 'aws-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { recordRotationEvent } from './rotation-events';
import { rotationRuntime } from './shared/rotation-runtime';
import { logger, requiredEnv } from './shared/runtime';

const runtime = rotationRuntime();
const sfn = new SFNClient({});

/** EventBridge target for Secrets Manager rotation events (via CloudTrail). */
export const handler = async (event: unknown, context: Context) => {
  logger.addContext(context);
  const { secretsManager } = await runtime.components();
  const result = await recordRotationEvent(event, {
    secrets: runtime.secrets,
    secretsManager,
    sfn,
    rotationStateMachineArn: requiredEnv('CLOSELOOP_ROTATION_STATE_MACHINE'),
    policy: runtime.policy,
    clock: runtime.clock,
  });
  logger.info('rotation event', { result });
  return { result };
};
