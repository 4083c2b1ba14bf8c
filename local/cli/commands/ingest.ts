import { Option, type Command } from 'commander';
import { applyCleanRescans } from '@core/lifecycle/rescan';
import { sweepLifecycles, type StartResult } from '@core/lifecycle/start';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { FORMAT_NAMES, type FormatName } from '@connectors/sources/types';
import { parseFormat } from '../arguments';
import { summaryLine } from '../format';
import { progressReporter } from '../progress';
import type { Cli } from '../cli';

export function ingestCommand(cli: Cli): Command {
  return cli
    .command('ingest')
    .description('ingest scanner reports (JSON, JSON lines, SARIF)')
    .argument('<files...>', 'report files')
    .addOption(
      new Option('--format <format>', `report format: auto, ${FORMAT_NAMES.join(', ')}`)
        .default('auto')
        .argParser(parseFormat),
    )
    .option(
      '--asset <asset>',
      'the asset the report is about (e.g. github.com/acme/payments-api) when the report does not say',
    )
    .option('--json', 'print the summary as JSON')
    .action(async (files: string[], opts: { format: FormatName | 'auto'; asset?: string; json?: boolean }) => {
      await cli.withHub(async (hub) => {
        const progress = progressReporter(!opts.json && process.stderr.isTTY === true);
        const started: StartResult<unknown> = { launched: [], deferred: [] };
        try {
          const { total, scans } = await ingestReportFiles(files, {
            store: hub.store,
            clock: hub.clock,
            hasher: hub.hasher,
            format: opts.format,
            ...(opts.asset ? { asset: opts.asset } : {}),
            onProgress: progress.update,
            // The last report's findings start with its writes (one write each); any other report's
            // wait for the sweep below, once every report is in.
            launcher: hub.lifecycles,
            startWithLastReportOnly: true,
            onStarted: (round) => {
              started.launched.push(...round.launched);
              started.deferred.push(...round.deferred);
            },
          });
          progress.stop();
          // Findings waiting for their owner that this scan of their scope no longer reports.
          const rescans = await applyCleanRescans(hub.decisions, scans, {
            startedMeanwhile: new Set(started.launched.map((l) => l.id)),
          });
          // Every other new finding's lifecycle starts now, in this command, once all its files are
          // in: a finding two files report (one finds the key, the other verifies it) starts knowing both.
          const swept = await sweepLifecycles(hub.store, hub.lifecycles);
          const launched = [...started.launched, ...swept.launched];
          const deferred = [
            ...started.deferred.filter((d) => !swept.launched.some((l) => l.id === d.id)),
            ...swept.deferred,
          ];
          if (opts.json) cli.io.out(JSON.stringify(total));
          else {
            cli.io.out(summaryLine(total));
            for (const error of total.errors) cli.io.out(`  rejected: ${error}`);
            if (total.rejected > 0)
              cli.io.out('  rejected records are quarantined (redacted): closeloop quarantine list');
            for (const r of rescans) cli.io.out(`  ${r.message}`);
            if (launched.length > 0) cli.io.out(`  ${launched.length} lifecycle(s) started`);
          }
          for (const d of deferred)
            cli.io.err(
              `closeloop: ${d.id}: lifecycle not started (${d.problem ?? 'deferred'}); the next tick starts it`,
            );
        } finally {
          progress.stop();
        }
      });
    });
}
