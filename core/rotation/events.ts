import type { Clock } from '../shared/clock';
import type { Policy } from '../policy/policy';
import type { ManagedSecretStore } from './managed-secrets';
import type { RotationState } from './model';
import type { RetirementLauncher, SecretCatalogue } from './ports';

/** A scheduled rotation's outcome as Secrets Manager reported it (RotationSucceeded / Failed / Abandoned). */
export interface ScheduledRotationEvent {
  outcome: 'succeeded' | 'failed' | 'abandoned';
  secretId: string;
  /** Unique per delivery (CloudTrail's event id): a redelivery records nothing. */
  deliveryId: string;
  eventTime: string;
}

export interface ScheduledRotationDeps {
  secrets: ManagedSecretStore;
  catalogue: SecretCatalogue;
  /** The rotation machine, started in `retire` mode after a scheduled IAM-key rotation. */
  retirements: RetirementLauncher;
  policy: Policy;
  clock: Clock;
}

/**
 * Records a scheduled rotation's outcome on the managed secret (once per delivery) and, after a
 * successful rotation of an IAM-key secret, starts the retirement of the rotated-out key (grace
 * period, deactivate, verify, delete later).
 */
export async function recordScheduledRotation(
  event: ScheduledRotationEvent,
  deps: ScheduledRotationDeps,
): Promise<'recorded' | 'duplicate'> {
  const { outcome } = event;
  const secret = await deps.catalogue.describe(event.secretId);
  const { arn: secretArn, name, rotator, currentVersion: current } = secret;
  const recorded = await deps.secrets.record(
    {
      secretArn,
      name,
      ...(rotator ? { rotator } : {}),
      outcome,
      deliveryId: event.deliveryId,
      event: {
        actor: 'aws:secretsmanager',
        action: `rotation.${outcome}` as const,
        reason:
          outcome === 'succeeded'
            ? `scheduled rotation of ${name} succeeded`
            : `scheduled rotation of ${name} ${outcome}; AWSCURRENT is ${current ?? 'unknown'}; escalated to ${deps.policy.escalationContact}`,
        ...(outcome === 'succeeded' && current ? { evidenceRef: `${secretArn}#version:${current}` } : {}),
        data: { cloudTrailEventId: event.deliveryId, eventTime: event.eventTime },
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
    await deps.retirements.retire(input, `retire-${current}`.slice(0, 80));
  }
  return 'recorded';
}
