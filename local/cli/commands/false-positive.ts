import type { Command } from 'commander';
import { claimFalsePositive, markFalsePositive, rejectFalsePositive } from '@core/lifecycle/decisions';
import { InputError } from '@core/shared/errors';
import type { Cli } from '../cli';

/**
 * `false-positive <id>`: an approver closes it (the design's contract); `--claim`: someone (its
 * owner, usually) says it is one, and an approver decides; `--reject`: an approver rejects the
 * claim that waits, and the owner still fixes it.
 */
export function falsePositiveCommand(cli: Cli): Command {
  return cli
    .command('false-positive')
    .description(
      'close a finding as a false positive (an approver other than its owner, with a reason); --claim records a claim for an approver to decide, --reject rejects the claim that waits',
    )
    .argument('<id>')
    .option('--reason <text>', 'why it is (or is not) a real exposure; required to close or claim')
    .requiredOption('--as <principal>', 'who decides (or claims)')
    .option('--claim', 'record a claim that waits for an approver, instead of closing')
    .option('--reject', 'reject the false-positive claim that waits: the owner still fixes it')
    .action((id: string, opts: { reason?: string; as: string; claim?: boolean; reject?: boolean }) =>
      cli.print((hub) => {
        if (opts.claim && opts.reject) throw new InputError('--claim and --reject: give one of them, not both');
        if (opts.reject)
          return rejectFalsePositive(hub.decisions, {
            id,
            by: opts.as,
            ...(opts.reason ? { reason: opts.reason } : {}),
          });
        if (opts.reason === undefined)
          throw new InputError(
            `--reason is required to ${opts.claim ? 'claim a false positive' : 'close as a false positive'}`,
          );
        return opts.claim
          ? claimFalsePositive(hub.decisions, { id, by: opts.as, reason: opts.reason })
          : markFalsePositive(hub.decisions, { id, by: opts.as, reason: opts.reason });
      }),
    );
}
