import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import type { Clock } from '@core/shared/clock';
import type { Policy } from '@core/policy/policy';
import type { ManagedSecretStore } from '@core/rotation/managed-secrets';
import { ROTATOR_TAG, RotatorKindSchema, type RotationState } from '@core/rotation/model';

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

export interface RotationEventDeps {
  secrets: ManagedSecretStore;
  secretsManager: SecretsManagerClient;
  sfn: SFNClient;
  /** The rotation machine, started in `retire` mode after a scheduled IAM-key rotation. */
  rotationStateMachineArn: string;
  policy: Policy;
  clock: Clock;
}

/**
 * Records a RotationSucceeded / RotationFailed / RotationAbandoned event on the managed secret
 * (once per CloudTrail event id) and, after a successful rotation of an IAM-key secret, starts
 * the retirement of the rotated-out key (grace period, deactivate, verify, delete later).
 */
export async function recordRotationEvent(
  event: unknown,
  deps: RotationEventDeps,
): Promise<'recorded' | 'duplicate' | 'ignored'> {
  const parsed = RotationCloudTrailEventSchema.parse(event);
  const outcome = OUTCOMES[parsed.detail.eventName as keyof typeof OUTCOMES];
  const secretId =
    parsed.detail.additionalEventData?.SecretId ??
    parsed.detail.serviceEventDetails?.SecretId ??
    parsed.detail.requestParameters?.secretId;
  if (!outcome || !secretId) return 'ignored';
  const described = await deps.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
  const secretArn = described.ARN ?? secretId;
  const name = described.Name ?? secretArn;
  const rotatorTag = RotatorKindSchema.safeParse(described.Tags?.find((t) => t.Key === ROTATOR_TAG)?.Value);
  const rotator = rotatorTag.success ? rotatorTag.data : undefined;
  const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
  const recorded = await deps.secrets.record(
    {
      secretArn,
      name,
      ...(rotator ? { rotator } : {}),
      outcome,
      deliveryId: parsed.detail.eventID,
      event: {
        actor: 'aws:secretsmanager',
        action: `rotation.${outcome}` as const,
        reason:
          outcome === 'succeeded'
            ? `scheduled rotation of ${name} succeeded`
            : `scheduled rotation of ${name} ${outcome}; AWSCURRENT is ${current ?? 'unknown'}; escalated to ${deps.policy.escalationContact}`,
        ...(outcome === 'succeeded' && current ? { evidenceRef: `${secretArn}#version:${current}` } : {}),
        data: { cloudTrailEventId: parsed.detail.eventID, eventTime: parsed.detail.eventTime },
      },
    },
    deps.clock.now().toISOString(),
  );
  if (!recorded) return 'duplicate';
  if (outcome === 'succeeded' && rotator === 'iam_access_key' && current) {
    const input: RotationState = {
      mode: 'retire',
      plan: {
        action: 'rotate_secret',
        reason: `retire the key rotated out of ${name}`,
        secretArn,
        secretName: name,
        rotator,
      },
      rotationToken: current,
      graceSeconds: deps.policy.rotation.graceHours * 3600,
      deleteAfterSeconds: deps.policy.rotation.deleteAfterDays * 86400,
    };
    try {
      await deps.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: deps.rotationStateMachineArn,
          name: `retire-${current}`.slice(0, 80),
          input: JSON.stringify(input),
        }),
      );
    } catch (err) {
      if (!(err instanceof ExecutionAlreadyExists) && (err as Error).name !== 'ExecutionAlreadyExists') throw err;
    }
  }
  return 'recorded';
}
