import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { ROTATION_STEP_NAMES, RotationStateSchema } from '@core/rotation/model';
import { runRotationStep } from '@core/rotation/steps';
import { lambdaRotation } from '@connectors/wiring/aws';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

/** What statemachines/secret-rotation.asl.json sends in each Task's Payload. */
const StepEventSchema = z.object({ step: z.enum(ROTATION_STEP_NAMES), state: RotationStateSchema });

const services = lambdaServices();
const rotation = lambdaRotation(services);

/** One step of the secret rotation machine. */
export const handler = async (event: unknown, context: Context) => {
  logger.addContext(context);
  const { step, state } = StepEventSchema.parse(event);
  const { control } = await rotation.rotation();
  logger.info('rotation machine step', {
    step,
    findingId: state.findingId,
    mode: state.mode ?? 'remediate',
    secret: state.plan?.secretArn,
  });
  return runRotationStep(step, state, {
    store: services.store,
    clock: services.clock,
    policy: services.policy,
    control,
    secrets: services.secrets,
  });
};
