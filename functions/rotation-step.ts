import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { ROTATION_STEP_NAMES, RotationStateSchema } from '@core/rotation/model';
import { runRotationStep } from '@core/rotation/steps';
import { rotationRuntime } from './shared/rotation-runtime';
import { logger } from './shared/runtime';

/** What statemachines/secret-rotation.asl.json sends in each Task's Payload. */
const StepEventSchema = z.object({ step: z.enum(ROTATION_STEP_NAMES), state: RotationStateSchema });

const runtime = rotationRuntime();

/** One step of the secret rotation machine. */
export const handler = async (event: unknown, context: Context) => {
  logger.addContext(context);
  const { step, state } = StepEventSchema.parse(event);
  const { control } = await runtime.components();
  logger.info('rotation machine step', {
    step,
    findingId: state.findingId,
    mode: state.mode ?? 'remediate',
    secret: state.plan?.secretArn,
  });
  return runRotationStep(step, state, {
    store: runtime.store,
    clock: runtime.clock,
    policy: runtime.policy,
    control,
    secrets: runtime.secrets,
  });
};
