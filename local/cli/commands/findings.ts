import type { Command } from 'commander';
import { FINDING_STATUSES, type FindingStatus } from '@core/finding/model';
import { parseStatus } from '../arguments';
import { findingsTable, publicFinding } from '../format';
import type { Cli } from '../cli';

export function findingsCommand(cli: Cli): Command {
  return cli
    .command('findings')
    .description('list findings')
    .option('--status <status>', `only findings with this status (${FINDING_STATUSES.join(', ')})`, parseStatus)
    .option('--json', 'print a JSON array')
    .action(async (opts: { status?: FindingStatus; json?: boolean }) => {
      await cli.withHub(async (hub) => {
        const findings = await hub.store.list(opts.status ? { status: opts.status } : {});
        cli.io.out(opts.json ? JSON.stringify(findings.map(publicFinding), null, 2) : findingsTable(findings));
      });
    });
}
