import type { Command } from 'commander';
import type { TimerKind } from '@core/finding/model';
import type { ResumeAt } from '@core/lifecycle/state';
import { sweepLifecycles } from '@core/lifecycle/start';
import { describeRun, type LocalHub } from '../../hub';
import type { Cli } from '../cli';
import { runNotify } from './notify';

const TIMER_RESUME: Record<TimerKind, ResumeAt> = {
  approval_timeout: 'approval_timed_out',
  sla_breach: 'sla_breached',
  exception_expiry: 'exception_expired',
};

/** One tick at the hub's clock: start pending lifecycles, fire due timers, sync tickets, notify people. */
export async function runTick(hub: LocalHub, out: (line: string) => void): Promise<void> {
  const now = hub.clock.now().toISOString();
  const started = await sweepLifecycles(hub.store, hub.lifecycles);
  for (const { id, run } of started) out(`started ${describeRun(id, run)}`);
  const due = await hub.store.dueTimers(now);
  for (const finding of due) {
    const kind = finding.lifecycle!.timerKind!;
    const run = await hub.lifecycles.resume(finding, TIMER_RESUME[kind]);
    out(`${kind.replace('_', ' ')} ${describeRun(finding.id, run)}`);
  }
  out(`tick at ${now}: ${started.length} lifecycle(s) started, ${due.length} timer(s) fired`);
  const synced = await hub.sync();
  out(
    `tickets: ${synced.created} created, ${synced.updated} update(s) sent, ${synced.pending} pending${synced.problems.length > 0 ? ` (${synced.problems[0]})` : ''}`,
  );
  const wb = synced.writeback;
  if (wb.written > 0 || wb.pending > 0)
    out(
      `write-back: ${wb.written} scanner record(s) told, ${wb.pending} pending${wb.problems.length > 0 ? ` (${wb.problems[0]})` : ''}`,
    );
  // Without channels the notices are still routed (to none), so none piles up; nothing to print.
  if (hub.policy.notifications.channels.length === 0) await hub.notify();
  else for (const problem of (await runNotify(hub, out)).problems) out(`  closeloop: ${problem}`);
}

export function tickCommand(cli: Cli): Command {
  return cli
    .command('tick')
    .description(
      "fire whatever is due at the hub's clock (CLOSELOOP_NOW): start new lifecycles, SLA escalations, approval timeouts, exception expiries",
    )
    .action(async () => {
      await cli.withHub((hub) => runTick(hub, cli.io.out));
    });
}
