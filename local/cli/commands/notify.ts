import type { Command } from 'commander';
import type { ChannelOutcome, NotifyResult } from '@core/notify/notifier';
import type { LocalHub } from '../../hub';
import { EXIT, type Cli } from '../cli';

function outcomeLine(c: ChannelOutcome): string {
  const name = `${c.channel} (${c.kind})`;
  switch (c.outcome) {
    case 'sent':
      return `${name}: sent a digest of ${c.notices} notice(s)${c.repeat ? ', marked as a possible repeat' : ''}`;
    case 'nothing':
      return `${name}: nothing new`;
    case 'busy':
      return `${name}: another closeloop is sending its digest`;
    case 'failed':
    case 'unavailable':
      return `${name}: not delivered (${c.notices} notice(s) stay queued)`;
  }
}

/** Whether everything queued went out (nothing failed, nothing waits for a channel that cannot be reached). */
export const delivered = (result: NotifyResult) =>
  result.channels.every((c) => c.outcome !== 'failed' && c.outcome !== 'unavailable');

/** One notifier run, printed: what was routed, then one line per channel. */
export async function runNotify(hub: LocalHub, out: (line: string) => void): Promise<NotifyResult> {
  const result = await hub.notify();
  const channels = hub.policy.notifications.channels.length;
  out(
    `notify: ${result.routed} notice(s) routed to ${channels} channel(s)${result.raised > 0 ? `, ${result.raised} exception(s) ending announced` : ''}`,
  );
  for (const c of result.channels) out(`  ${outcomeLine(c)}`);
  return result;
}

export function notifyCommand(cli: Cli): Command {
  return cli
    .command('notify')
    .description(
      'tell people where they read: send each notification channel of the policy (Slack, Teams, email) its digest of SLA breaches, approvals waiting, exceptions ending, failed rotations and live credentials; exits 0 only when every digest went out',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      await cli.withHub(async (hub) => {
        const result = opts.json ? await hub.notify() : await runNotify(hub, cli.io.out);
        if (opts.json) cli.io.out(JSON.stringify(result));
        else for (const problem of result.problems) cli.io.err(`closeloop: ${problem}`);
        if (!delivered(result)) cli.exitWith(EXIT.failed);
      });
    });
}
