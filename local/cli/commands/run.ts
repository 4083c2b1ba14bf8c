import type { Command } from 'commander';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { WaitState } from '@core/finding/model';
import { applyCleanRescans } from '@core/lifecycle/rescan';
import { sweepLifecycles } from '@core/lifecycle/start';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { readLocalConfig } from '../../config';
import { applyScenario } from '../../scenario';
import { findingsTable, summaryLine } from '../format';
import type { Cli } from '../cli';

/** Where the sample reports shipped with the project live (used by `closeloop run`). */
export const SAMPLES_DIR = resolve(__dirname, '..', '..', '..', 'samples');

export function runCommand(cli: Cli): Command {
  return cli
    .command('run')
    .description(
      'the main job on the embedded default: ingest reports (the shipped samples when none are given) and show the findings',
    )
    .argument('[files...]', 'report files (default: the sample reports)')
    .action(async (files: string[]) => {
      const samples = files.length === 0;
      const inputs = samples
        ? readdirSync(SAMPLES_DIR)
            // policy.json, scenario.json and closeloop.json (the example deploy file) are settings, not reports.
            .filter(
              (f) => /\.(json|jsonl|sarif)$/.test(f) && !['policy.json', 'scenario.json', 'closeloop.json'].includes(f),
            )
            .sort()
            .map((f) => join(SAMPLES_DIR, f))
        : files;
      // The samples come with their own policy (team owners, two approvers) unless one is configured.
      const config = readLocalConfig();
      const policyFile = config.policyFile ?? (samples ? join(SAMPLES_DIR, 'policy.json') : undefined);
      await cli.withHub({ ...config, ...(policyFile ? { policyFile } : {}) }, async (hub) => {
        cli.io.out(
          `closeloop hub: DynamoDB ${hub.config.dynamoEndpoint ?? 'Local (embedded)'}, table ${hub.config.tableName}, data in ${hub.config.home}`,
        );
        const { byFile, total, scans } = await ingestReportFiles(inputs, {
          store: hub.store,
          clock: hub.clock,
          hasher: hub.hasher,
        });
        for (const { file, format, summary } of byFile)
          cli.io.out(`ingested ${file.replace(`${process.cwd()}/`, '')} (${format}): ${summaryLine(summary)}`);
        for (const r of await applyCleanRescans(hub.decisions, scans)) cli.io.out(`  ${r.message}`);
        // Every new finding's lifecycle starts once all the reports are in (as `ingest` does), and
        // anything an earlier, stopped run left is resumed.
        const started = (await sweepLifecycles(hub.store, hub.lifecycles)).launched.length;
        // The samples' scenario: what people did (an exception requested and approved).
        const scenario = samples ? await applyScenario(join(SAMPLES_DIR, 'scenario.json'), hub.decisions) : [];
        const synced = await hub.sync();
        for (const problem of [...synced.problems, ...synced.writeback.problems]) cli.io.err(`closeloop: ${problem}`);
        const findings = await hub.store.list();
        cli.io.out('');
        cli.io.out(findingsTable(findings));
        cli.io.out('');
        const correlated = findings.filter((f) => new Set(f.sources.map((s) => s.scanner)).size > 1).length;
        cli.io.out(
          `${findings.length} findings from ${total.received} records (${correlated} reported by more than one scanner; ${total.rejected} rejected into quarantine).`,
        );
        const waiting = (at: WaitState) => findings.filter((f) => f.lifecycle?.waitingAt === at).length;
        cli.io.out(
          `${started} lifecycle(s) started: ${waiting('AwaitApproval')} awaiting approval, ${waiting('AwaitOwnerFix')} with their owner, ${waiting('AwaitExceptionApproval')} awaiting an exception decision, ${findings.filter((f) => f.status === 'risk_accepted').length} under an exception.`,
        );
        for (const line of scenario) cli.io.out(`Sample scenario: ${line}.`);
        const rotated = findings.filter((f) =>
          f.evidence.some((e) => e.kind === 'rotation_record' || e.kind === 'key_deactivated'),
        );
        if (rotated.length > 0) {
          const simulated = rotated.filter((f) => f.evidence.every((e) => e.simulated));
          cli.io.out(
            `Auto-remediation: ${rotated.length} finding(s) rotated by the secret rotation machine (${rotated.map((f) => f.id).join(', ')})` +
              (simulated.length > 0
                ? `; ${simulated.length} as a dry run (no AWS endpoint configured): the plan of calls is in \`show <id>\`, simulated evidence never closes a finding, so its owner still fixes it.`
                : '.'),
          );
        }
        const where = hub.config.jira
          ? `Jira ${hub.config.jira.baseUrl}`
          : hub.config.servicenow
            ? `ServiceNow ${hub.config.servicenow.url}`
            : 'the local tracker';
        cli.io.out(
          `Tickets: ${synced.created} created in ${where}, ${synced.updated} update(s) sent, ${synced.pending} pending.`,
        );
        const next: Array<[string, string]> = [
          ['npm run closeloop -- show <id>', 'every event of a finding, hash-chained'],
          ['npm run closeloop -- tickets', 'the tickets, owners, due dates and comments'],
          [
            `npm run closeloop -- approve <id> --as ${samples ? 'bob' : '<approver>'}`,
            'decide a rotation that awaits approval',
          ],
          [
            'CLOSELOOP_NOW=2027-02-01 npm run closeloop -- tick',
            'move the clock: SLA escalations fire, the exception expires',
          ],
          [
            'npm run closeloop -- report sla --format html --out sla.html',
            'an auditor report (sla, ownership, exceptions, rotation, standards, audit)',
          ],
          ['npm run closeloop -- audit verify', 'check every audit chain'],
        ];
        const width = Math.max(...next.map(([command]) => command.length));
        cli.io.out('Next (from this checkout):');
        for (const [command, what] of next) cli.io.out(`  ${command.padEnd(width)}  ${what}`);
      });
    });
}
