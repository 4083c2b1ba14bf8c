import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { ROTATION_STEPS, runRotationProtocolStep } from '@connectors/rotation/protocol';
import { lambdaRotation } from '@connectors/wiring/aws';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

/** The event Secrets Manager invokes a rotation function with. */
const RotationEventSchema = z.object({
  SecretId: z.string().min(1),
  ClientRequestToken: z.string().min(1),
  Step: z.enum(ROTATION_STEPS as ['createSecret', 'setSecret', 'testSecret', 'finishSecret']),
});

const rotation = lambdaRotation(lambdaServices());

/**
 * The Secrets Manager rotation function of every closeloop-managed secret (the rotator is the
 * secret's `closeloop:rotator` tag). Logs names and version ids only, never a value.
 */
export const handler = async (event: unknown, context: Context) => {
  logger.addContext(context);
  const parsed = RotationEventSchema.parse(event);
  const { secretsManager, rotatorFor } = (await rotation.rotation()).components;
  logger.info('rotation step', { secretId: parsed.SecretId, step: parsed.Step, version: parsed.ClientRequestToken });
  const log = {
    info: (message: string, details: Record<string, unknown> = {}) => logger.info(message, details),
    warn: (message: string, details: Record<string, unknown> = {}) => logger.warn(message, details),
  };
  await runRotationProtocolStep(parsed, { secretsManager, rotatorFor, log });
};
