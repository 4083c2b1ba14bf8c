import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { LifecycleStateSchema } from '@core/lifecycle/state';
import { STEP_NAMES, runStep } from '@core/lifecycle/steps';
import { lifecycleRuntime } from './shared/lifecycle-runtime';
import { lambdaOwnerDirectory } from './shared/ticketing-runtime';
import { logger } from './shared/runtime';

/** What statemachines/finding-lifecycle.asl.json sends in each Task's Payload. */
const StepEventSchema = z.object({ step: z.enum(STEP_NAMES), state: LifecycleStateSchema, taskToken: z.string().min(1).optional() });

// The CMDB owner directory (when ServiceNow is configured) comes first in triage's owner chain.
const directory = lambdaOwnerDirectory();
const runtime = { ...lifecycleRuntime(), ...(directory ? { directory } : {}) };

/** One lifecycle step (the state machine's Task states); waiting steps store the task token. */
export const handler = async (event: unknown, context: Context) => {
  logger.addContext(context);
  const { step, state, taskToken } = StepEventSchema.parse(event);
  logger.info('lifecycle step', { step, findingId: state.findingId, generation: state.generation });
  return runStep(step, state, runtime, taskToken);
};
