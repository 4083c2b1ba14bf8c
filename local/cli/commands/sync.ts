import type { Command } from 'commander';
import { sweepLifecycles } from '@core/lifecycle/start';
import { EXIT, type Cli } from '../cli';

export function syncCommand(cli: Cli): Command {
  return cli
    .command('sync')
    .description(
      'push pending ticket and CMDB work to Jira, ServiceNow or the local tracker; exits 0 only when nothing is left pending (safe to run again after any failure)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      await cli.withHub(async (hub) => {
        // New findings get their lifecycle first: triage is what opens their tickets, so
        // `ingest` then `sync` leaves every open finding with exactly one ticket.
        await sweepLifecycles(hub.store, hub.lifecycles);
        const result = await hub.sync();
        const wb = result.writeback;
        if (opts.json) cli.io.out(JSON.stringify(result));
        else {
          cli.io.out(
            `sync: ${result.created} ticket(s) created, ${result.updated} update(s) sent, ${result.pending} pending`,
          );
          // Only when there was any: most hubs have no scanner to tell.
          if (wb.written + wb.skipped + wb.pending > 0)
            cli.io.out(
              `write-back: ${wb.written} scanner record(s) told, ${wb.skipped} skipped, ${wb.pending} pending${wb.stuck > 0 ? ` (${wb.stuck} failing for hours)` : ''}`,
            );
          for (const problem of [...result.problems, ...wb.problems]) cli.io.err(`closeloop: ${problem}`);
        }
        if (result.pending > 0 || wb.pending > 0) cli.exitWith(EXIT.failed);
      });
    });
}
