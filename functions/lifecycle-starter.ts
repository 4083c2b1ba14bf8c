import { SFNClient } from '@aws-sdk/client-sfn';
import { sweepLifecycles } from '@core/lifecycle/start';
import { stepFunctionsLauncher } from '@connectors/aws/step-functions';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const services = lambdaServices();
const launcher = stepFunctionsLauncher({
  sfn: new SFNClient({}),
  stateMachineArn: services.config.require('CLOSELOOP_LIFECYCLE_STATE_MACHINE'),
  store: services.store,
  clock: services.clock,
});

/** Scheduled sweep (EventBridge); also the catch-up that makes a lost start impossible. */
export const handler = async () => {
  const result = { started: (await sweepLifecycles(services.store, launcher)).length };
  logger.info('lifecycle sweep', result);
  return result;
};
