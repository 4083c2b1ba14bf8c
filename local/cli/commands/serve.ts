import { InvalidArgumentError, type Command } from 'commander';
import { runReportExport, type ReportExportRequest } from '@core/reports/exports';
import { ROUTES_SUMMARY } from '@connectors/api/routes';
import { PRINCIPAL_HEADER, startLocalApi } from '../../serve';
import { digestLine, writeLocalDigest } from './audit';
import { runTick } from './tick';
import type { Cli } from '../cli';

export function serveCommand(cli: Cli): Command {
  return cli
    .command('serve')
    .description(
      `the local HTTP API on 127.0.0.1 (the deployed API's routes; the caller is named by the ${PRINCIPAL_HEADER} header), hosting the lifecycles; runs tick periodically and seals the audit trail every policy digest interval`,
    )
    .option(
      '--port <port>',
      'port (0 picks a free one)',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535)
          throw new InvalidArgumentError('must be a port number from 0 to 65535');
        return n;
      },
      8787,
    )
    .option(
      '--tick-interval <seconds>',
      'seconds between ticks (0: never)',
      (v) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds, 0 or more');
        return n;
      },
      60,
    )
    .action(async (opts: { port: number; tickInterval: number }) => {
      await cli.withHub(async (hub) => {
        const reportSource = hub.reportSource;
        let baseUrl = '';
        const files = hub.exportFiles(() => baseUrl);
        let exporting = Promise.resolve();
        // Locally the export runs in this process, one after another, like the worker Lambda would.
        const start = async (request: ReportExportRequest) => {
          exporting = exporting
            .then(() =>
              runReportExport(request, {
                source: reportSource(),
                policy: hub.policy,
                files,
                now: () => hub.clock.now(),
              }).then(() => undefined),
            )
            .catch((err: Error) => cli.io.err(`closeloop: export ${request.id} failed: ${err.message}`));
        };
        const { url, server } = await startLocalApi(
          hub.decisions,
          opts.port,
          hub.webhooks,
          {
            source: reportSource,
            policy: hub.policy,
            clock: hub.clock,
            cursorKey: () => Promise.resolve(hub.reportCursorKey),
          },
          { files, start, clock: hub.clock },
          (message, error) => cli.io.err(`closeloop: ${message}: ${error.name}: ${error.message}`),
          hub.githubWebhook,
        );
        baseUrl = url;
        cli.io.out(`closeloop serve: listening on ${url} (${ROUTES_SUMMARY})`);
        let ticking = Promise.resolve();
        const timer =
          opts.tickInterval > 0
            ? setInterval(
                () =>
                  (ticking = ticking
                    .then(() => runTick(hub, cli.io.out))
                    .catch((err: Error) => cli.io.err(`closeloop: tick failed: ${err.message}`))),
                opts.tickInterval * 1000,
              )
            : undefined;
        // The local digest writer: seals the trail every policy interval (wall clock), as the stack's schedule does.
        let sealing = Promise.resolve();
        const digests = setInterval(
          () =>
            (sealing = sealing
              .then(async () => cli.io.out(digestLine(await writeLocalDigest(hub))))
              .catch((err: Error) => cli.io.err(`closeloop: audit digest failed: ${err.message}`))),
          hub.policy.audit.digestIntervalMinutes * 60_000,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        if (timer) clearInterval(timer);
        clearInterval(digests);
        await ticking;
        await sealing;
        await exporting;
        await new Promise<void>((resolve) => server.close(() => resolve()));
        cli.io.out('closeloop serve: stopped');
      });
    });
}
