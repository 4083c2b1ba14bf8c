import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { recordRotationEvent } from '@connectors/aws/rotation-events';
import { awsSecretCatalogue } from '@connectors/aws/secrets-catalogue';
import { stepFunctionsRetirements } from '@connectors/aws/step-functions';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const services = lambdaServices();
const deps = {
  secrets: services.secrets,
  catalogue: awsSecretCatalogue(new SecretsManagerClient({})),
  retirements: stepFunctionsRetirements(new SFNClient({}), services.config.require('CLOSELOOP_ROTATION_STATE_MACHINE')),
  policy: services.policy,
  clock: services.clock,
};

/** EventBridge target for Secrets Manager rotation events (via CloudTrail). */
export const handler = async (event: unknown, context: Context) => {
  logger.addContext(context);
  const result = await recordRotationEvent(event, deps);
  logger.info('rotation event', { result });
  return { result };
};
