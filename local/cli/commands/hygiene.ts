import type { Command } from 'commander';
import { runCredentialHygiene } from '@core/rotation/hygiene-run';
import { ConfigurationError } from '@core/shared/errors';
import { readCredentialInventory } from '@connectors/aws/credential-inventory';
import { summaryLine } from '../format';
import type { Cli } from '../cli';

export function hygieneCommand(cli: Cli): Command {
  return cli
    .command('hygiene')
    .description(
      'raise NHI7 (not rotated within policy) and NHI1 (unused key) findings from the credential inventory of the configured AWS endpoints',
    )
    .option('--json', 'print the ingest summary as JSON')
    .action(async (opts: { json?: boolean }) => {
      await cli.withHub(async (hub) => {
        const aws = hub.rotation.components;
        if (!aws) {
          throw new ConfigurationError(
            'credential hygiene reads Secrets Manager and IAM: set AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_IAM (deployed, the stack runs it daily)',
          );
        }
        const inventory = await readCredentialInventory(aws, hub.hasher);
        // Hygiene findings it no longer reports resume with what the inventory proves (key gone, secret rotated).
        const { summary, cleared } = await runCredentialHygiene(inventory, hub.decisions);
        if (opts.json) cli.io.out(JSON.stringify({ ...summary, cleared: cleared.map((c) => c.findingId) }));
        else {
          cli.io.out(
            `hygiene: ${inventory.secrets.length} secrets and ${inventory.accessKeys.length} access keys read; ${summaryLine(summary)}`,
          );
          for (const c of cleared) cli.io.out(`  ${c.message}`);
        }
      });
    });
}
