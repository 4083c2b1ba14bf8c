import type { Context } from 'aws-lambda';
import { runCredentialHygiene } from '@core/rotation/hygiene-run';
import { readCredentialInventory } from '@connectors/aws/credential-inventory';
import { lambdaRotation } from '@connectors/wiring/aws';
import { lambdaServices, logger } from '@connectors/wiring/lambda';
import { lambdaLifecycles } from '@connectors/wiring/lifecycle';

const services = lambdaServices();
const rotation = lambdaRotation(services);
// New hygiene findings' lifecycles start right after their commit; cleared ones resume (SendTaskSuccess).
const { decisions } = lambdaLifecycles(services);

/**
 * Scheduled: raises NHI7 (secrets and access keys not rotated within policy) and NHI1 (access
 * keys unused past the threshold) findings from the account's inventory, through the normal
 * ingest, so each gets an owner, a due date and a ticket; hygiene findings it no longer reports
 * get the evidence the inventory proves and their lifecycle resumes (SendTaskSuccess).
 */
export const handler = async (_event: unknown, context: Context) => {
  logger.addContext(context);
  const { secretsManager, iam } = (await rotation.rotation()).components;
  const inventory = await readCredentialInventory({ secretsManager, iam }, await rotation.deploymentKey.hasher());
  const { summary, cleared } = await runCredentialHygiene(inventory, decisions);
  logger.info('credential hygiene', {
    secrets: inventory.secrets.length,
    accessKeys: inventory.accessKeys.length,
    ...summary,
    cleared: cleared.map((c) => c.findingId),
  });
  return { ...summary, cleared: cleared.length };
};
