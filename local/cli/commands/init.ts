import type { Command } from 'commander';
import { ensureTable } from '@core/store/ensure-table';
import { readLocalConfig } from '../../config';
import type { Cli } from '../cli';

export function initCommand(cli: Cli): Command {
  return cli
    .command('init')
    .description('create the table (same keys and indexes as the CDK stack) if it is missing')
    .action(async () => {
      const config = readLocalConfig();
      await cli.withHub(async (hub) => {
        // openLocalHub already ensured it; report what happened.
        const again = await ensureTable(hub.client, config.tableName);
        cli.io.out(
          `table ${config.tableName}: ${hub.tableStatus === 'created' ? 'created' : again === 'exists' ? 'already exists' : 'created'}`,
        );
      });
    });
}
