import axios from 'axios';
import type { Context } from 'aws-lambda';
import { CloseloopError } from '@core/shared/errors';
import { lambdaLifecycles } from '@connectors/wiring/lifecycle';
import { pullGithubAlerts, type PullResult } from '@connectors/sources/pull';
import { githubScopes, lambdaSourceCredentials, required } from '@connectors/wiring/sources';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const services = lambdaServices();
const deploymentKey = services.deploymentKey();
const credentials = lambdaSourceCredentials(services);
const scopes = githubScopes(services.config.require('CLOSELOOP_GITHUB_SCOPES'));
const http = axios.create();
const { store, clock } = services;
// New findings' lifecycles start right after each commit; revocations resume waiting ones.
const { decisions, launcher } = lambdaLifecycles(services);
/** Time kept back for the last page's ingest and the cursor write. */
const RESERVE_MS = 90_000;

/**
 * Scheduled: pulls the GitHub secret scanning alerts of every configured organisation and
 * repository (the same code as `closeloop pull github`). A scope that cannot finish in this run
 * continues from its cursor next run; one that fails does not stop the others, and the run then
 * fails (Lambda retries it, then its dead-letter queue raises the alarm).
 */
export const handler = async (_event: unknown, context: Context) => {
  logger.addContext(context);
  const token = required(await credentials.read(), 'githubToken');
  const hasher = await deploymentKey.hasher();
  const timeIsUp = () => context.getRemainingTimeInMillis() < RESERVE_MS;
  const results: Array<{ scope: string } & Partial<PullResult>> = [];
  const failures: string[] = [];
  for (const scope of scopes) {
    const name = 'org' in scope ? `org:${scope.org}` : `repo:${scope.repo}`;
    if (timeIsUp()) {
      results.push({ scope: name, complete: false, stoppedBy: 'deadline' });
      continue;
    }
    try {
      const result = await pullGithubAlerts(
        { http, store, cursors: store, clock, hasher, decisions, launcher, timeIsUp },
        { apiUrl: services.config.settings.GITHUB_API_URL, token, scope },
      );
      results.push({ scope: name, ...result, errors: result.errors.slice(0, 20) });
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  logger.info('github pull', { results, failures });
  if (failures.length > 0) throw new CloseloopError(`GitHub pull failed for ${failures.join('; ')}`);
  return { scopes: results.length, complete: results.every((r) => r.complete) };
};
