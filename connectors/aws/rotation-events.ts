import { z } from 'zod';
import {
  recordScheduledRotation,
  type ScheduledRotationDeps,
  type ScheduledRotationEvent,
} from '@core/rotation/events';

const OUTCOMES = { RotationSucceeded: 'succeeded', RotationFailed: 'failed', RotationAbandoned: 'abandoned' } as const;

/** EventBridge: a Secrets Manager rotation event delivered through CloudTrail. */
export const RotationCloudTrailEventSchema = z.object({
  id: z.string(),
  source: z.literal('aws.secretsmanager'),
  detail: z.object({
    eventName: z.string(),
    eventID: z.string().min(1),
    eventTime: z.string(),
    additionalEventData: z.object({ SecretId: z.string().optional() }).loose().nullish(),
    serviceEventDetails: z.object({ SecretId: z.string().optional() }).loose().nullish(),
    requestParameters: z.object({ secretId: z.string().optional() }).loose().nullish(),
  }),
});

/** The scheduled rotation an event reports; undefined for other Secrets Manager events. A malformed event names the field. */
export function parseRotationCloudTrailEvent(event: unknown): ScheduledRotationEvent | undefined {
  const { detail } = RotationCloudTrailEventSchema.parse(event);
  const outcome = OUTCOMES[detail.eventName as keyof typeof OUTCOMES];
  const secretId =
    detail.additionalEventData?.SecretId ?? detail.serviceEventDetails?.SecretId ?? detail.requestParameters?.secretId;
  if (!outcome || !secretId) return undefined;
  return { outcome, secretId, deliveryId: detail.eventID, eventTime: detail.eventTime };
}

/** A CloudTrail rotation event, recorded on its managed secret (see recordScheduledRotation); others are ignored. */
export async function recordRotationEvent(
  event: unknown,
  deps: ScheduledRotationDeps,
): Promise<'recorded' | 'duplicate' | 'ignored'> {
  const rotation = parseRotationCloudTrailEvent(event);
  return rotation ? recordScheduledRotation(rotation, deps) : 'ignored';
}
