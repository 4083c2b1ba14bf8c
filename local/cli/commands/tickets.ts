import type { Command } from 'commander';
import { ticketsTable } from '../format';
import type { Cli } from '../cli';

export function ticketsCommand(cli: Cli): Command {
  return cli
    .command('tickets')
    .description("the local tracker's tickets (where tickets go when neither Jira nor ServiceNow is configured)")
    .option('--json', 'print them as JSON')
    .action(async (opts: { json?: boolean }) => {
      await cli.withHub(async (hub) => {
        const tickets = await hub.tracker.list();
        if (opts.json) cli.io.out(JSON.stringify(tickets));
        else cli.io.out(ticketsTable(tickets));
      });
    });
}
