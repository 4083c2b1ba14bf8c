import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { NotificationsUndeliveredError, runNotifier } from '@core/notify/notifier';
import { lambdaNotifier } from '@connectors/wiring/notify';
import { lambdaServices, logger } from '@connectors/wiring/lambda';

const services = lambdaServices();
const notifier = lambdaNotifier(services, `lambda-${randomUUID().slice(0, 8)}`);

/**
 * Scheduled (EventBridge, every `notifications.digestIntervalMinutes`): routes new notices to the
 * policy's channels and sends each channel at most one digest. Every channel is tried; when one
 * could not be reached the run fails after the others, naming it (never its webhook URL).
 */
export const handler = async (_event: unknown, context: Context) => {
  logger.addContext(context);
  const result = await runNotifier(await notifier.deps());
  logger.info('notifications', {
    routed: result.routed,
    raised: result.raised,
    channels: result.channels.map((c) => ({ channel: c.channel, outcome: c.outcome, notices: c.notices })),
  });
  if (result.problems.length > 0) throw new NotificationsUndeliveredError(result.problems.join('; '));
  return { routed: result.routed, sent: result.channels.filter((c) => c.outcome === 'sent').length };
};
