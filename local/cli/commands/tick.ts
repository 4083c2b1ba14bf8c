import type { Command } from 'commander';
import { sweepLifecycles } from '@core/lifecycle/start';
import { fireDueTimers } from '@core/lifecycle/timers';
import { describeRun, type LocalHub } from '../../hub';
import type { Cli } from '../cli';
import { runNotify } from './notify';

/**
 * One tick at the hub's clock: start what needs a lifecycle and was not started at ingest (the
 * sweep, also resuming stalled local starts), fire due timers (SLA and approval escalations are
 * recorded; ended exceptions resume their lifecycle), sync tickets, notify people.
 */
export async function runTick(hub: LocalHub, out: (line: string) => void): Promise<void> {
  const now = hub.clock.now().toISOString();
  const started = await sweepLifecycles(hub.store, hub.lifecycles);
  for (const { id, run } of started.launched) out(`started ${describeRun(id, run)}`);
  for (const { id, problem } of started.deferred) out(`not started ${id}: ${problem ?? 'deferred'}`);
  const timers = await fireDueTimers(hub.decisions);
  for (const { id, actions } of timers.escalated) out(`${actions.join(', ')} ${id}`);
  for (const finding of timers.expired)
    out(`exception expiry ${describeRun(finding.id, await hub.lifecycles.resume(finding, 'exception_expired'))}`);
  out(
    `tick at ${now}: ${started.launched.length} lifecycle(s) started, ${timers.escalated.length + timers.expired.length} timer(s) fired`,
  );
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
      "fire whatever is due at the hub's clock (CLOSELOOP_NOW): SLA escalations, approval timeouts, exception expiries, and any lifecycle ingest did not start",
    )
    .action(async () => {
      await cli.withHub((hub) => runTick(hub, cli.io.out));
    });
}
