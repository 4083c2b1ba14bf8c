import type { Command } from 'commander';
import type { Cli } from '../cli';

export function initCommand(cli: Cli): Command {
  return cli
    .command('init')
    .description(
      'create the table (same keys and indexes as the CDK stack) if it is missing, or add the indexes it lacks',
    )
    .action(async () => {
      // Opening the hub ensures the table; say what that found.
      await cli.withHub(async (hub) =>
        cli.io.out(
          `table ${hub.config.tableName}: ${{ created: 'created', updated: 'indexes added', exists: 'already exists' }[hub.tableStatus]}`,
        ),
      );
    });
}
