import type { Command } from 'commander';
import { InputError } from '@core/shared/errors';
import { pullGithubAlerts, pullGitguardianIncidents } from '@connectors/sources/pull';
import { readLocalConfig } from '../../config';
import { summaryLine } from '../format';
import type { Cli } from '../cli';

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
        const result = await pullGithubAlerts(
          {
            http: hub.http,
            store: hub.store,
            cursors: hub.store,
            clock: hub.clock,
            hasher: hub.hasher,
            launcher: hub.lifecycles,
          },
          {
            apiUrl: config.hub.settings.GITHUB_API_URL,
            token,
            scope: opts.org ? { org: opts.org } : { repo: opts.repo! },
          },
        );
        cli.io.out(opts.json ? JSON.stringify(result) : `${summaryLine(result)} · pages ${result.pages}`);
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
        const result = await pullGitguardianIncidents(
          {
            http: hub.http,
            store: hub.store,
            cursors: hub.store,
            clock: hub.clock,
            hasher: hub.hasher,
            launcher: hub.lifecycles,
          },
          { apiUrl: config.hub.settings.GITGUARDIAN_API_URL, token },
        );
        cli.io.out(opts.json ? JSON.stringify(result) : `${summaryLine(result)} · pages ${result.pages}`);
      });
    });
  return pull;
}
