import type { Context } from 'aws-lambda';
import { readCredentialInventory } from '@connectors/aws/credential-inventory';
import { ingestRecords } from '@core/ingest';
import { hygieneRecords } from '@core/rotation/hygiene';
import { rotationRuntime } from './shared/rotation-runtime';
import { logger } from './shared/runtime';

const runtime = rotationRuntime();

/**
 * Scheduled: raises NHI7 (secrets and access keys not rotated within policy) and NHI1 (access
 * keys unused past the threshold) findings from the account's inventory, through the normal
 * ingest, so each gets an owner, a due date and a ticket.
 */
export const handler = async (_event: unknown, context: Context) => {
  logger.addContext(context);
  const { secretsManager, iam } = await runtime.components();
  const inventory = await readCredentialInventory({ secretsManager, iam }, await runtime.hasher());
  const now = runtime.clock.now();
  const summary = await ingestRecords(hygieneRecords(inventory, runtime.policy, now), { store: runtime.store, clock: runtime.clock, reportName: `closeloop:credential-hygiene:${now.toISOString()}`, format: 'closeloop-hygiene' });
  logger.info('credential hygiene', { secrets: inventory.secrets.length, accessKeys: inventory.accessKeys.length, ...summary });
  return summary;
};
