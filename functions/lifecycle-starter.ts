import type { Context } from 'aws-lambda';
import { sweepLifecycles } from '@core/lifecycle/start';
import { fireDueTimers } from '@core/lifecycle/timers';
import { lambdaServices, logger } from '@connectors/wiring/lambda';
import { lambdaLifecycles } from '@connectors/wiring/lifecycle';

const services = lambdaServices();
const { launcher } = lambdaLifecycles(services);

/** Leaves this much of the invocation for the timers and the log line. */
const RESERVE_MS = 20_000;

/**
 * The scheduled sweep (EventBridge), the safety net under the starts at ingest: starts what the
 * sparse index says has no lifecycle (in parallel within StartExecution's rate, until the
 * invocation nears its end; the rest next time), and fires due SLA and approval escalations.
 */
export const handler = async (_event: unknown, context?: Context) => {
  if (context) logger.addContext(context);
  const until = Date.now() + (context ? context.getRemainingTimeInMillis() - RESERVE_MS : 40_000);
  const started = await sweepLifecycles(services.store, launcher, { until });
  const timers = await fireDueTimers(services);
  for (const { id, problem } of started.deferred.filter((d) => d.problem).slice(0, 20))
    logger.warn('lifecycle not started; the next sweep retries', { findingId: id, problem });
  const result = {
    started: started.launched.length,
    deferred: started.deferred.length,
    escalated: timers.escalated.length,
  };
  logger.info('lifecycle sweep', result);
  return result;
};
