import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CloseloopError, FindingNotFoundError, InputError } from '@core/errors';
import { verifyAllChains } from '@core/audit-verify';
import { FINDING_STATUSES, type FindingStatus } from '@core/model';
import { ensureTable } from '@core/store/ensure-table';
import axios from 'axios';
import { ConfigurationError } from '@core/errors';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { pullGithubAlerts, pullGitguardianIncidents } from '@connectors/sources/pull';
import { FORMAT_ALIASES, FORMAT_NAMES, type FormatName } from '@connectors/sources/types';
import { readLocalConfig, type LocalConfig } from '../config';
import { openLocalHub, type LocalHub } from '../hub';
import {
  findingDetails,
  findingsTable,
  publicEvent,
  publicFinding,
  quarantineTable,
  summaryLine,
  ticketsTable,
} from './format';
import {
  localDecisions,
  localWebhooks,
  registerLifecycleCommands,
  runTick,
  startPendingLifecycles,
} from './lifecycle-commands';
import { applyCleanRescans } from '@core/lifecycle/rescan';
import { REPORT_KINDS, computeReport, type ReportKind } from '@core/reports/reports';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '@core/reports/render';
import { DynamoReportSource } from '@core/store/dynamo-report-source';
import { DynamoManagedSecretStore } from '@core/store/dynamo-managed-secret-store';
import { runCredentialHygiene } from '@core/rotation/hygiene-run';
import { readCredentialInventory } from '@connectors/aws/credential-inventory';
import { rotationComponents } from '@connectors/aws/rotation-wiring';
import { applyScenario } from '../scenario';
import { PRINCIPAL_HEADER, startLocalApi } from '../serve';
import { localExportFiles } from '../export-files';
import { runReportExport, type ReportExportRequest } from '@core/reports/exports';
import { progressReporter } from './progress';

/** Where the sample reports shipped with the project live (used by `closeloop run`). */
export const SAMPLES_DIR = resolve(__dirname, '..', '..', 'samples');

/** Exit codes: 0 done, 1 failed or refused, 2 bad arguments or unreadable input (nothing written). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

function parseIsoDate(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
    throw new InvalidArgumentError('must be an ISO-8601 date, e.g. 2026-11-01');
  return date;
}

function parseFormat(value: string): FormatName | 'auto' {
  if (value === 'auto' || (FORMAT_NAMES as readonly string[]).includes(value)) return value as FormatName | 'auto';
  const alias = FORMAT_ALIASES[value];
  if (alias) return alias;
  throw new InvalidArgumentError(`must be one of auto, ${FORMAT_NAMES.join(', ')}`);
}

function parseStatus(value: string): FindingStatus {
  if ((FINDING_STATUSES as readonly string[]).includes(value)) return value as FindingStatus;
  throw new InvalidArgumentError(`must be one of ${FINDING_STATUSES.join(', ')}`);
}

async function withHub<T>(fn: (hub: LocalHub) => Promise<T>): Promise<T>;
async function withHub<T>(config: LocalConfig, fn: (hub: LocalHub) => Promise<T>): Promise<T>;
async function withHub<T>(
  a: LocalConfig | ((hub: LocalHub) => Promise<T>),
  b?: (hub: LocalHub) => Promise<T>,
): Promise<T> {
  const [config, fn] = typeof a === 'function' ? [readLocalConfig(), a] : [a, b!];
  const hub = await openLocalHub(config);
  try {
    return await fn(hub);
  } finally {
    await hub.close();
  }
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('closeloop')
    .description('closeloop: owned, deadlined, evidenced remediation of non-human-identity findings')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showSuggestionAfterError(true);

  program
    .command('init')
    .description('create the table (same keys and indexes as the CDK stack) if it is missing')
    .action(async () => {
      const config = readLocalConfig();
      await withHub(async (hub) => {
        // openLocalHub already ensured it; report what happened.
        const again = await ensureTable(hub.client, config.tableName);
        io.out(
          `table ${config.tableName}: ${hub.table === 'created' ? 'created' : again === 'exists' ? 'already exists' : 'created'}`,
        );
      });
    });

  program
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
      await withHub(async (hub) => {
        const progress = progressReporter(!opts.json && process.stderr.isTTY === true);
        try {
          const { total, scans } = await ingestReportFiles(files, {
            store: hub.store,
            clock: hub.clock,
            hasher: hub.hasher,
            format: opts.format,
            ...(opts.asset ? { asset: opts.asset } : {}),
            onProgress: progress.update,
          });
          progress.stop();
          // Findings waiting for their owner that this scan of their scope no longer reports.
          const rescans = await applyCleanRescans(localDecisions(hub), scans);
          if (opts.json) io.out(JSON.stringify(total));
          else {
            io.out(summaryLine(total));
            for (const error of total.errors) io.out(`  rejected: ${error}`);
            if (total.rejected > 0) io.out('  rejected records are quarantined (redacted): closeloop quarantine list');
            for (const r of rescans) io.out(`  ${r.message}`);
          }
        } finally {
          progress.stop();
        }
      });
    });

  program
    .command('findings')
    .description('list findings')
    .option('--status <status>', `only findings with this status (${FINDING_STATUSES.join(', ')})`, parseStatus)
    .option('--json', 'print a JSON array')
    .action(async (opts: { status?: FindingStatus; json?: boolean }) => {
      await withHub(async (hub) => {
        const findings = await hub.store.list(opts.status ? { status: opts.status } : {});
        io.out(opts.json ? JSON.stringify(findings.map(publicFinding), null, 2) : findingsTable(findings));
      });
    });

  program
    .command('show')
    .description('show one finding with its audit events')
    .argument('<id>', 'finding id (NHI-…)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      if (!/^NHI-[0-9A-F]{16}$/i.test(id))
        throw new InputError(`finding id must look like NHI-0123456789ABCDEF, got ${JSON.stringify(id.slice(0, 40))}`);
      await withHub(async (hub) => {
        const finding = await hub.store.get(id.toUpperCase());
        if (!finding) throw new FindingNotFoundError(id.toUpperCase());
        const events = await hub.store.events(finding.id);
        io.out(
          opts.json
            ? JSON.stringify({ ...publicFinding(finding), events: events.map(publicEvent) }, null, 2)
            : findingDetails(finding, events),
        );
      });
    });

  const quarantine = program.command('quarantine').description('records rejected at ingest, kept redacted');
  quarantine
    .command('list')
    .description('list quarantined records')
    .option('--json', 'print JSON (with the redacted records)')
    .action(async (opts: { json?: boolean }) => {
      await withHub(async (hub) => {
        const entries = await hub.store.listQuarantine();
        io.out(
          opts.json
            ? JSON.stringify(
                entries.map((e) => ({ ...e, redactedRecord: JSON.parse(e.redactedRecord) as unknown })),
                null,
                2,
              )
            : quarantineTable(entries),
        );
      });
    });

  const pull = program
    .command('pull')
    .description('pull findings from scanner APIs (safe to re-run: a watermark is kept in DynamoDB)');
  pull
    .command('github')
    .description(
      'GitHub secret scanning alerts of an organisation or repository (GITHUB_TOKEN; GITHUB_API_URL for GitHub Enterprise Server)',
    )
    .option('--org <org>', 'organisation')
    .option('--repo <owner/name>', 'repository')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { org?: string; repo?: string; json?: boolean }) => {
      if (!opts.org === !opts.repo)
        throw new InputError('pull github needs exactly one of --org <org> or --repo <owner/name>');
      if (opts.repo && !/^[\w.-]+\/[\w.-]+$/.test(opts.repo))
        throw new InputError(`--repo must be owner/name, got ${JSON.stringify(opts.repo.slice(0, 60))}`);
      const token = requireEnv('GITHUB_TOKEN');
      await withHub(async (hub) => {
        const result = await pullGithubAlerts(
          { http: axios.create(), store: hub.store, cursors: hub.store, clock: hub.clock, hasher: hub.hasher },
          {
            apiUrl: process.env.GITHUB_API_URL ?? 'https://api.github.com',
            token,
            scope: opts.org ? { org: opts.org } : { repo: opts.repo! },
          },
        );
        io.out(opts.json ? JSON.stringify(result) : `${summaryLine(result)} · pages ${result.pages}`);
      });
    });
  pull
    .command('gitguardian')
    .description('GitGuardian secret incidents (GITGUARDIAN_API_KEY; GITGUARDIAN_API_URL for a self-hosted instance)')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { json?: boolean }) => {
      const token = requireEnv('GITGUARDIAN_API_KEY');
      await withHub(async (hub) => {
        const result = await pullGitguardianIncidents(
          { http: axios.create(), store: hub.store, cursors: hub.store, clock: hub.clock, hasher: hub.hasher },
          { apiUrl: process.env.GITGUARDIAN_API_URL ?? 'https://api.gitguardian.com', token },
        );
        io.out(opts.json ? JSON.stringify(result) : `${summaryLine(result)} · pages ${result.pages}`);
      });
    });

  program
    .command('hygiene')
    .description(
      'raise NHI7 (not rotated within policy) and NHI1 (unused key) findings from the credential inventory of the configured AWS endpoints',
    )
    .option('--json', 'print the ingest summary as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withHub(async (hub) => {
        if (hub.config.rotation !== 'aws') {
          throw new ConfigurationError(
            'credential hygiene reads Secrets Manager and IAM: set AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_IAM (deployed, the stack runs it daily)',
          );
        }
        const inventory = await readCredentialInventory(rotationComponents(hub.hasher), hub.hasher);
        // Hygiene findings it no longer reports resume with what the inventory proves (key gone, secret rotated).
        const { summary, cleared } = await runCredentialHygiene(inventory, localDecisions(hub));
        if (opts.json) io.out(JSON.stringify({ ...summary, cleared: cleared.map((c) => c.findingId) }));
        else {
          io.out(
            `hygiene: ${inventory.secrets.length} secrets and ${inventory.accessKeys.length} access keys read; ${summaryLine(summary)}`,
          );
          for (const c of cleared) io.out(`  ${c.message}`);
        }
      });
    });

  program
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
        await withHub(async (hub) => {
          const source = new DynamoReportSource(hub.client, hub.config.tableName);
          const report = await computeReport(kind, source, {
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
            io.out(`${report.title}: written to ${opts.out} (${opts.format})`);
          } else io.out(rendered.replace(/\r?\n$/, ''));
          if (report.verification && !report.verification.ok) exitCode = EXIT.failed;
        });
      },
    );

  const audit = program.command('audit').description('the audit trail');
  audit
    .command('verify')
    .description('check every hash-chained audit trail (findings, managed secrets); exits 1 naming the first break')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withHub(async (hub) => {
        const result = await verifyAllChains(hub.store, new DynamoManagedSecretStore(hub.client, hub.config.tableName));
        if (opts.json) io.out(JSON.stringify(result));
        else if (result.ok)
          io.out(
            `audit verify: ${result.findings} findings${result.secrets > 0 ? `, ${result.secrets} managed secrets` : ''}, ${result.events} events, every chain intact`,
          );
        else
          io.err(
            `closeloop: audit chain broken: ${result.findingId.startsWith('NHI-') ? 'finding' : 'managed secret'} ${result.findingId}, ${result.problem}`,
          );
        if (!result.ok) exitCode = EXIT.failed;
      });
    });

  program
    .command('serve')
    .description(
      `the local HTTP API on 127.0.0.1 (the deployed API's routes; the caller is named by the ${PRINCIPAL_HEADER} header), hosting the lifecycles; runs tick periodically`,
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
      await withHub(async (hub) => {
        const reportSource = () => new DynamoReportSource(hub.client, hub.config.tableName);
        let baseUrl = '';
        const files = localExportFiles(hub.config.home, () => baseUrl);
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
            .catch((err: Error) => io.err(`closeloop: export ${request.id} failed: ${err.message}`));
        };
        const { url, server } = await startLocalApi(
          localDecisions(hub),
          opts.port,
          localWebhooks(hub),
          { source: reportSource, policy: hub.policy, clock: hub.clock },
          { files, start, clock: hub.clock },
        );
        baseUrl = url;
        io.out(
          `closeloop serve: listening on ${url} (GET /findings, GET /findings/{id}, POST /findings/{id}/approve|reject|exception|exception/approve|exception/reject|false-positive|done, POST /webhooks/jira|servicenow, GET /reports/{kind}, POST /reports/{kind}/exports, GET /reports/exports/{id})`,
        );
        let ticking = Promise.resolve();
        const timer =
          opts.tickInterval > 0
            ? setInterval(
                () =>
                  (ticking = ticking
                    .then(() => runTick(hub, io.out))
                    .catch((err: Error) => io.err(`closeloop: tick failed: ${err.message}`))),
                opts.tickInterval * 1000,
              )
            : undefined;
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        if (timer) clearInterval(timer);
        await ticking;
        await exporting;
        await new Promise<void>((resolve) => server.close(() => resolve()));
        io.out('closeloop serve: stopped');
      });
    });

  program
    .command('run')
    .description(
      'the main job on the embedded default: ingest reports (the shipped samples when none are given) and show the findings',
    )
    .argument('[files...]', 'report files (default: the sample reports)')
    .action(async (files: string[]) => {
      const samples = files.length === 0;
      const inputs = samples
        ? readdirSync(SAMPLES_DIR)
            .filter((f) => /\.(json|jsonl|sarif)$/.test(f) && f !== 'policy.json' && f !== 'scenario.json')
            .sort()
            .map((f) => join(SAMPLES_DIR, f))
        : files;
      // The samples come with their own policy (team owners, two approvers) unless one is configured.
      const config = readLocalConfig();
      const policyFile = config.policyFile ?? (samples ? join(SAMPLES_DIR, 'policy.json') : undefined);
      await withHub({ ...config, ...(policyFile ? { policyFile } : {}) }, async (hub) => {
        io.out(
          `closeloop hub: DynamoDB ${hub.config.dynamoEndpoint ?? 'Local (embedded)'}, table ${hub.config.tableName}, data in ${hub.config.home}`,
        );
        const { byFile, total, scans } = await ingestReportFiles(inputs, {
          store: hub.store,
          clock: hub.clock,
          hasher: hub.hasher,
        });
        for (const { file, format, summary } of byFile)
          io.out(`ingested ${file.replace(`${process.cwd()}/`, '')} (${format}): ${summaryLine(summary)}`);
        for (const r of await applyCleanRescans(localDecisions(hub), scans)) io.out(`  ${r.message}`);
        const started = await startPendingLifecycles(hub);
        // The samples' scenario: what people did (an exception requested and approved).
        const scenario = samples ? await applyScenario(join(SAMPLES_DIR, 'scenario.json'), localDecisions(hub)) : [];
        const synced = await hub.sync();
        for (const problem of synced.problems) io.err(`closeloop: ${problem}`);
        const findings = await hub.store.list();
        io.out('');
        io.out(findingsTable(findings));
        io.out('');
        const correlated = findings.filter((f) => new Set(f.sources.map((s) => s.scanner)).size > 1).length;
        io.out(
          `${findings.length} findings from ${total.received} records (${correlated} reported by more than one scanner; ${total.rejected} rejected into quarantine).`,
        );
        const waiting = (at: string) => findings.filter((f) => f.lifecycle?.waitingAt === at).length;
        io.out(
          `${started.length} lifecycle(s) started: ${waiting('AwaitApproval')} awaiting approval, ${waiting('AwaitOwnerFix')} with their owner, ${waiting('AwaitExceptionApproval')} awaiting an exception decision, ${findings.filter((f) => f.status === 'risk_accepted').length} under an exception.`,
        );
        for (const line of scenario) io.out(`Sample scenario: ${line}.`);
        const rotated = findings.filter((f) =>
          f.evidence.some((e) => e.kind === 'rotation_record' || e.kind === 'key_deactivated'),
        );
        if (rotated.length > 0) {
          const simulated = rotated.filter((f) => f.evidence.every((e) => e.simulated));
          io.out(
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
        io.out(
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
        io.out('Next (from this checkout):');
        for (const [command, what] of next) io.out(`  ${command.padEnd(width)}  ${what}`);
      });
    });

  program
    .command('sync')
    .description(
      'push pending ticket and CMDB work to Jira, ServiceNow or the local tracker; exits 0 only when nothing is left pending (safe to run again after any failure)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withHub(async (hub) => {
        // New findings get their lifecycle first: triage is what opens their tickets, so
        // `ingest` then `sync` leaves every open finding with exactly one ticket.
        await startPendingLifecycles(hub);
        const result = await hub.sync();
        if (opts.json) io.out(JSON.stringify(result));
        else {
          io.out(
            `sync: ${result.created} ticket(s) created, ${result.updated} update(s) sent, ${result.pending} pending`,
          );
          for (const problem of result.problems) io.err(`closeloop: ${problem}`);
        }
        if (result.pending > 0) exitCode = EXIT.failed;
      });
    });

  program
    .command('tickets')
    .description("the local tracker's tickets (where tickets go when neither Jira nor ServiceNow is configured)")
    .option('--json', 'print them as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withHub(async (hub) => {
        const tickets = await hub.tracker.list();
        if (opts.json) io.out(JSON.stringify(tickets));
        else io.out(ticketsTable(tickets));
      });
    });

  registerLifecycleCommands(program, (fn) => withHub(fn), io.out);

  try {
    await program.parseAsync(argv);
  } catch (err) {
    exitCode = handleError(err, io);
  }
  return exitCode;
}

function requireEnv(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new ConfigurationError(`${name} is required`);
  return value;
}

/** `TimeoutError: …` when DynamoDB failed or did not answer in time, else undefined. */
function storeFailure(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & { $metadata?: unknown; code?: string };
  const network = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'].includes(e.code ?? '');
  if (e.name === 'StoreUnavailableError' || e.name === 'TimeoutError' || e.$metadata !== undefined || network)
    return `${e.name}: ${e.message}`;
  return undefined;
}

function handleError(err: unknown, io: Io): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (help, version, or the usage error).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
      return EXIT.ok;
    return EXIT.usage;
  }
  if (err instanceof InputError) {
    io.err(`closeloop: ${err.message}`);
    return EXIT.usage;
  }
  const store = storeFailure(err);
  if (store) {
    io.err(`closeloop: the store failed (${store}); every write is idempotent, so it is safe to re-run the command`);
    return EXIT.failed;
  }
  if (err instanceof CloseloopError) {
    io.err(`closeloop: ${err.message}`);
    return EXIT.failed;
  }
  io.err(`closeloop: unexpected error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  return EXIT.failed;
}
