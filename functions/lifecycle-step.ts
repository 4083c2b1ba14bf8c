import type { Context } from 'aws-lambda';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsResourceTags } from '@connectors/aws/resource-tags';
import { z } from 'zod';
import { LifecycleStateSchema } from '@core/lifecycle/state';
import { STEP_NAMES, runStep } from '@core/lifecycle/steps';
import { lifecycleRuntime } from './shared/lifecycle-runtime';
import { lambdaOwnerDirectory } from './shared/ticketing-runtime';
import { logger } from './shared/runtime';

/** What statemachines/finding-lifecycle.asl.json sends in each Task's Payload. */
const StepEventSchema = z.object({
  step: z.enum(STEP_NAMES),
  state: LifecycleStateSchema,
  taskToken: z.string().min(1).optional(),
});

// The CMDB owner directory (when ServiceNow is configured) comes first in triage's owner chain.
const directory = lambdaOwnerDirectory();
const base = lifecycleRuntime();
// Then the owner tag of the resource (IAM users and roles, secrets).
const tags = awsResourceTags(
  { iam: new IAMClient({}), secretsManager: new SecretsManagerClient({}) },
  base.policy.ownerTagKeys,
  (message) => logger.warn(message),
);
const runtime = { ...base, tags, ...(directory ? { directory } : {}) };

/** One lifecycle step (the state machine's Task states); waiting steps store the task token. */
export const handler = async (event: unknown, context: Context) => {
  logger.addContext(context);
  const { step, state, taskToken } = StepEventSchema.parse(event);
  logger.info('lifecycle step', { step, findingId: state.findingId, generation: state.generation });
  return runStep(step, state, runtime, taskToken);
};
