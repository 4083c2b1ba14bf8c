import { Argument, InvalidArgumentError, Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { REPORT_KINDS, computeReport, type ReportKind } from '@core/reports/reports';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '@core/reports/render';
import { parseIsoDate } from '../arguments';
import { EXIT, type Cli } from '../cli';

export function reportCommand(cli: Cli): Command {
  return cli
    .command('report')
    .description("auditor reports at the hub's clock, read through the store's indexes (never a Scan)")
    .addArgument(new Argument('<kind>', 'which report').choices(REPORT_KINDS))
    .addOption(
      new Option('--format <format>', 'table, json, csv (the main table) or html (one self-contained file)')
        .choices(REPORT_FORMATS)
        .default('table'),
    )
    .option('--since <date>', 'only what was closed, expired or recorded since (ISO-8601)', (v) => parseIsoDate(v))
    .option('--owner <owner>', "one owner's findings")
    .option('--finding <id>', "audit: one finding's trail")
    .option('--actor <name>', "audit: one actor's events")
    .option('--valid-after-days <n>', 'rotation: the "still valid N days after notification" figure', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 365)
        throw new InvalidArgumentError('must be a whole number of days from 1 to 365');
      return n;
    })
    .option('--out <file>', 'write the report to this file instead of printing it')
    .action(
      async (
        kind: ReportKind,
        opts: {
          format: ReportFormat;
          since?: Date;
          owner?: string;
          finding?: string;
          actor?: string;
          validAfterDays?: number;
          out?: string;
        },
      ) => {
        await cli.withHub(async (hub) => {
          const report = await computeReport(kind, hub.reportSource(), {
            now: hub.clock.now(),
            policy: hub.policy,
            ...(opts.since ? { since: opts.since } : {}),
            ...(opts.owner ? { owner: opts.owner } : {}),
            ...(opts.finding ? { findingId: opts.finding } : {}),
            ...(opts.actor ? { actor: opts.actor } : {}),
            ...(opts.validAfterDays ? { validAfterDays: opts.validAfterDays } : {}),
          });
          const rendered = renderReport(report, opts.format);
          if (opts.out) {
            writeFileSync(opts.out, rendered);
            cli.io.out(`${report.title}: written to ${opts.out} (${opts.format})`);
          } else cli.io.out(rendered.replace(/\r?\n$/, ''));
          if (report.verification && !report.verification.ok) cli.exitWith(EXIT.failed);
        });
      },
    );
}
