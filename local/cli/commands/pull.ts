import type { Command } from 'commander';
import { InputError } from '@core/shared/errors';
import { pullGithubAlerts, pullGitguardianIncidents } from '@connectors/sources/pull';
import type { LocalHub } from '../../hub';
import { readLocalConfig } from '../../config';
import { summaryLine } from '../format';
import { EXIT, type Cli } from '../cli';
import type { PullResult } from '@connectors/sources/pull';

/** The summary; a walk that could not finish (a rate limit that resets later) exits 1 and says it continues next time. */
function report(cli: Cli, result: PullResult, json: boolean | undefined): void {
  cli.io.out(
    json
      ? JSON.stringify(result)
      : `${summaryLine(result)} · pages ${result.pages}${result.revoked > 0 ? ` · ${result.revoked} revoked at source` : ''}`,
  );
  if (!result.complete) {
    cli.io.err(
      `closeloop: pull stopped before the end (${result.stoppedBy === 'rate_limit' ? "the API's rate limit resets later than it may wait" : 'out of time'}); run it again: it continues where it stopped`,
    );
    cli.exitWith(EXIT.failed);
  }
}

/** What a pull needs from the hub: cursors in its table, the revocations as decisions, lifecycles started at ingest. */
const pullDeps = (hub: LocalHub) => ({
  http: hub.http,
  store: hub.store,
  cursors: hub.store,
  clock: hub.clock,
  hasher: hub.hasher,
  decisions: hub.decisions,
  launcher: hub.lifecycles,
});

export function pullCommand(cli: Cli): Command {
  const pull = cli
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
      const config = readLocalConfig();
      const token = config.hub.require('GITHUB_TOKEN');
      await cli.withHub(config, async (hub) => {
        const result = await pullGithubAlerts(pullDeps(hub), {
          apiUrl: config.hub.settings.GITHUB_API_URL,
          token,
          scope: opts.org ? { org: opts.org } : { repo: opts.repo! },
        });
        report(cli, result, opts.json);
      });
    });
  pull
    .command('gitguardian')
    .description('GitGuardian secret incidents (GITGUARDIAN_API_KEY; GITGUARDIAN_API_URL for a self-hosted instance)')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { json?: boolean }) => {
      const config = readLocalConfig();
      const token = config.hub.require('GITGUARDIAN_API_KEY');
      await cli.withHub(config, async (hub) => {
        const result = await pullGitguardianIncidents(pullDeps(hub), {
          apiUrl: config.hub.settings.GITGUARDIAN_API_URL,
          token,
        });
        report(cli, result, opts.json);
      });
    });
  return pull;
}
