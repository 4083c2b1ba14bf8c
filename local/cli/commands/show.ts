import type { Command } from 'commander';
import { parseFindingId } from '@core/finding/identity';
import { FindingNotFoundError } from '@core/shared/errors';
import { findingDetails, publicEvent, publicFinding } from '../format';
import type { Cli } from '../cli';

export function showCommand(cli: Cli): Command {
  return cli
    .command('show')
    .description('show one finding with its audit events')
    .argument('<id>', 'finding id (NHI-…)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const findingId = parseFindingId(id);
      await cli.withHub(async (hub) => {
        const finding = await hub.store.get(findingId);
        if (!finding) throw new FindingNotFoundError(findingId);
        const events = await hub.store.events(finding.id);
        cli.io.out(
          opts.json
            ? JSON.stringify({ ...publicFinding(finding), events: events.map(publicEvent) }, null, 2)
            : findingDetails(finding, events),
        );
      });
    });
}
