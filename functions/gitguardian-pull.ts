import axios from 'axios';
import type { Context } from 'aws-lambda';
import { lambdaLifecycles } from '@connectors/wiring/lifecycle';
import { pullGitguardianIncidents } from '@connectors/sources/pull';
import { lambdaSourceCredentials, required } from '@connectors/wiring/sources';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const services = lambdaServices();
const deploymentKey = services.deploymentKey();
const credentials = lambdaSourceCredentials(services);
const http = axios.create();
const { store, clock } = services;
// New findings' lifecycles start right after each commit; revocations resume waiting ones.
const { decisions, launcher } = lambdaLifecycles(services);
/** Time kept back for the last page's ingest and the cursor write. */
const RESERVE_MS = 90_000;

/**
 * Scheduled: pulls GitGuardian's secret incidents (the same code as `closeloop pull gitguardian`).
 * A walk that cannot finish in this run continues from its cursor next run; a failure fails the
 * run (Lambda retries it, then its dead-letter queue raises the alarm).
 */
export const handler = async (_event: unknown, context: Context) => {
  logger.addContext(context);
  const token = required(await credentials.read(), 'gitguardianApiKey');
  const result = await pullGitguardianIncidents(
    {
      http,
      store,
      cursors: store,
      clock,
      hasher: await deploymentKey.hasher(),
      decisions,
      launcher,
      timeIsUp: () => context.getRemainingTimeInMillis() < RESERVE_MS,
    },
    { apiUrl: services.config.settings.GITGUARDIAN_API_URL, token },
  );
  logger.info('gitguardian pull', { ...result, errors: result.errors.slice(0, 20) });
  return { received: result.received, complete: result.complete };
};
