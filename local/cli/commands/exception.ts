import type { Command } from 'commander';
import { decideException, requestException } from '@core/lifecycle/decisions';
import { parseDate } from '../arguments';
import type { Cli } from '../cli';

/** `exception request|approve|reject`: risk acceptance with an end date. */
export function exceptionCommand(cli: Cli): Command {
  const exception = cli.command('exception').description('risk acceptance with an end date');
  exception
    .command('request')
    .description('the owner asks to accept the risk until a date')
    .argument('<id>')
    .requiredOption('--until <date>', 'ISO-8601 end date (at most the policy maximum for the severity)')
    .requiredOption('--reason <text>', 'why the risk is acceptable')
    .requiredOption('--as <principal>', 'who asks (the owner)')
    .option('--compensating-control <text>', 'what reduces the risk meanwhile')
    .action(async (id: string, opts: { until: string; reason: string; as: string; compensatingControl?: string }) => {
      const until = parseDate(opts.until, '--until');
      const { reason, compensatingControl } = opts;
      await cli.print((hub) =>
        requestException(hub.decisions, {
          id,
          by: opts.as,
          until,
          reason,
          ...(compensatingControl ? { compensatingControl } : {}),
        }),
      );
    });
  const decide = (decision: 'approved' | 'rejected') => (id: string, opts: { as: string; reason?: string }) =>
    cli.print((hub) =>
      decideException(hub.decisions, { id, by: opts.as, decision, ...(opts.reason ? { reason: opts.reason } : {}) }),
    );
  exception
    .command('approve')
    .description('approve a requested exception (not the requester, not the owner)')
    .argument('<id>')
    .requiredOption('--as <principal>')
    .option('--reason <text>')
    .action(decide('approved'));
  exception
    .command('reject')
    .description('reject a requested exception: the owner fixes it')
    .argument('<id>')
    .requiredOption('--as <principal>')
    .option('--reason <text>')
    .action(decide('rejected'));
  return exception;
}
