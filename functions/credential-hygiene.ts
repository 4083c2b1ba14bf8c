import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { readCredentialInventory } from '@connectors/aws/credential-inventory';
import { runCredentialHygiene } from '@core/rotation/hygiene-run';
import { sfnSignaller } from './lifecycle-api';
import { rotationRuntime } from './shared/rotation-runtime';
import { logger } from './shared/runtime';

const runtime = rotationRuntime();
const sfn = new SFNClient({});

/**
 * Scheduled: raises NHI7 (secrets and access keys not rotated within policy) and NHI1 (access
 * keys unused past the threshold) findings from the account's inventory, through the normal
 * ingest, so each gets an owner, a due date and a ticket; hygiene findings it no longer reports
 * get the evidence the inventory proves and their lifecycle resumes (SendTaskSuccess).
 */
export const handler = async (_event: unknown, context: Context) => {
  logger.addContext(context);
  const { secretsManager, iam } = await runtime.components();
  const inventory = await readCredentialInventory({ secretsManager, iam }, await runtime.hasher());
  const { summary, cleared } = await runCredentialHygiene(inventory, {
    store: runtime.store,
    clock: runtime.clock,
    policy: runtime.policy,
    signaller: sfnSignaller(sfn),
  });
  logger.info('credential hygiene', {
    secrets: inventory.secrets.length,
    accessKeys: inventory.accessKeys.length,
    ...summary,
    cleared: cleared.map((c) => c.findingId),
  });
  return { ...summary, cleared: cleared.length };
};
