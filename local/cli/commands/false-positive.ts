import type { Command } from 'commander';
import { markFalsePositive } from '@core/lifecycle/decisions';
import type { Cli } from '../cli';

export function falsePositiveCommand(cli: Cli): Command {
  return cli
    .command('false-positive')
    .description('close a finding as a false positive (an approver other than its owner, with a reason)')
    .argument('<id>')
    .requiredOption('--reason <text>', 'why it is not a real exposure')
    .requiredOption('--as <principal>', 'the approver')
    .action((id: string, opts: { reason: string; as: string }) =>
      cli.print((hub) => markFalsePositive(hub.decisions, { id, by: opts.as, reason: opts.reason })),
    );
}
