import type { Command } from 'commander';
import { decideApproval } from '@core/lifecycle/decisions';
import type { Cli } from '../cli';

const WHAT = {
  approve: { decision: 'approved', description: 'approve the remediation a finding waits for', as: 'who approves' },
  reject: {
    decision: 'rejected',
    description: 'reject it: the owner fixes the finding instead',
    as: 'who rejects',
  },
} as const;

/** `approve` and `reject`: the decision on a remediation that waits for an approver. */
export function approvalCommand(cli: Cli, name: keyof typeof WHAT): Command {
  const { decision, description, as } = WHAT[name];
  return cli
    .command(name)
    .description(description)
    .argument('<id>')
    .requiredOption('--as <principal>', as)
    .option('--reason <text>')
    .action((id: string, opts: { as: string; reason?: string }) =>
      cli.print((hub) =>
        decideApproval(hub.decisions, { id, by: opts.as, decision, ...(opts.reason ? { reason: opts.reason } : {}) }),
      ),
    );
}
