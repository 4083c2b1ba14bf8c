import { SFNClient } from '@aws-sdk/client-sfn';
import type { DecisionDeps } from '@core/lifecycle/decisions';
import { sfnSignaller, stepFunctionsLauncher } from '../aws/step-functions';
import type { LambdaServices } from './lambda';

/**
 * The finding lifecycle on AWS, for every Lambda that starts or resumes one: one Step Functions
 * client per process, the launcher (StartExecution, idempotent by name, within its rate) and the
 * signaller (SendTaskSuccess), and the decision deps built from them, so that an ingest starts
 * each new finding's lifecycle right after its commit. CLOSELOOP_LIFECYCLE_STATE_MACHINE is read
 * at start: a function deployed without it fails its cold start, naming it.
 */
export function lambdaLifecycles(services: LambdaServices) {
  const sfn = new SFNClient({});
  const launcher = stepFunctionsLauncher({
    sfn,
    stateMachineArn: services.config.require('CLOSELOOP_LIFECYCLE_STATE_MACHINE'),
    store: services.store,
    clock: services.clock,
  });
  const signaller = sfnSignaller(sfn);
  const decisions: DecisionDeps = {
    store: services.store,
    clock: services.clock,
    policy: services.policy,
    signaller,
    launcher,
  };
  return { sfn, launcher, signaller, decisions };
}
