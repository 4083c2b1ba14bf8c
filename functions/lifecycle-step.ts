import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { LifecycleStateSchema } from '@core/lifecycle/state';
import { STEP_NAMES, runStep } from '@core/lifecycle/steps';
import { awsClients, buildOwnerChain } from '@connectors/wiring/aws';
import { lambdaServices, logger } from '@connectors/wiring/lambda';
import { lambdaCmdbDirectory } from '@connectors/wiring/ticketing';

/** What statemachines/finding-lifecycle.asl.json sends in each Task's Payload. */
const StepEventSchema = z.object({
  step: z.enum(STEP_NAMES),
  state: LifecycleStateSchema,
  taskToken: z.string().min(1).optional(),
});

const services = lambdaServices();
const { store, clock, policy } = services;
const deps = {
  store,
  clock,
  policy,
  // Triage's owner chain: the CMDB (when ServiceNow is configured), the resource's owner tag, the mappings.
  ...buildOwnerChain({
    policy,
    directory: lambdaCmdbDirectory(services),
    clients: awsClients(),
    warn: (message) => logger.warn(message),
  }),
};

/** One lifecycle step (the state machine's Task states); waiting steps store the task token. */
export const handler = async (event: unknown, context: Context) => {
  logger.addContext(context);
  const { step, state, taskToken } = StepEventSchema.parse(event);
  logger.info('lifecycle step', { step, findingId: state.findingId, generation: state.generation });
  return runStep(step, state, deps, taskToken ? { taskToken } : {});
};
