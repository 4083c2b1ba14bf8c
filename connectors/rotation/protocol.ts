import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
  type DescribeSecretCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CloseloopError, RefusedError } from '@core/shared/errors';
import { redactText } from '@core/shared/redaction';
import { FAILED_STEP_TAG, ROTATOR_TAG, RotatorKindSchema, type RotatorKind } from '@core/rotation/model';
import type { Rotator } from '@core/rotation/ports';

/** The event Secrets Manager invokes a rotation Lambda with. */
export interface RotationEvent {
  SecretId: string;
  ClientRequestToken: string;
  Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
}

export const ROTATION_STEPS: ReadonlyArray<RotationEvent['Step']> = [
  'createSecret',
  'setSecret',
  'testSecret',
  'finishSecret',
];

/** A log sink that never receives a secret: only names, version ids and outcomes. */
export interface RotationLog {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
}

export interface RotationProtocolDeps {
  secretsManager: SecretsManagerClient;
  rotatorFor(kind: RotatorKind): Rotator;
  log: RotationLog;
}

/** A rotation step failed; the message names the secret and step, never a value. */
export class RotationFailedError extends CloseloopError {
  constructor(
    readonly step: RotationEvent['Step'],
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RotationFailed';
  }
}

/** An error's message without anything shaped like a credential. */
export function safeMessage(err: unknown): string {
  return redactText(err instanceof Error ? err.message : String(err)).slice(0, 300);
}

/**
 * One step of the AWS Secrets Manager rotation protocol (createSecret, setSecret, testSecret,
 * finishSecret), for a secret whose `closeloop:rotator` tag names its rotator. Every step is
 * idempotent on retry: the ClientRequestToken is the new version's id and AWSPENDING is looked
 * up before anything is created. Refuses when rotation is not enabled or the version is not
 * AWSPENDING; returns early when it is already AWSCURRENT. A failed testSecret leaves
 * AWSCURRENT untouched, discards the new credential and removes AWSPENDING. The step that
 * failed is left on the secret as the tag `closeloop:rotation-failed-step` (`step@token`).
 */
export async function runRotationProtocolStep(event: RotationEvent, deps: RotationProtocolDeps): Promise<void> {
  const { secretsManager: sm, log } = deps;
  const { SecretId: secretId, ClientRequestToken: token, Step: step } = event;
  if (!ROTATION_STEPS.includes(step)) throw new RefusedError(`unknown rotation step "${String(step)}"`);
  const described = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
  const name = described.Name ?? secretId;
  if (!described.RotationEnabled) throw new RefusedError(`rotation is not enabled for secret ${name}`);
  const stages = described.VersionIdsToStages?.[token];
  if (!stages) throw new RefusedError(`secret ${name} has no version ${token} to rotate to`);
  if (stages.includes('AWSCURRENT')) {
    log.info('rotation step skipped: version already AWSCURRENT', { secret: name, version: token, step });
    return;
  }
  if (!stages.includes('AWSPENDING')) throw new RefusedError(`version ${token} of secret ${name} is not AWSPENDING`);
  const rotator = deps.rotatorFor(rotatorKindOf(described));
  const arn = described.ARN ?? secretId;

  const read = async (stage: 'AWSCURRENT' | 'AWSPENDING') => {
    const out = await sm.send(
      new GetSecretValueCommand({
        SecretId: arn,
        VersionStage: stage,
        ...(stage === 'AWSPENDING' ? { VersionId: token } : {}),
      }),
    );
    if (out.SecretString === undefined)
      throw new RotationFailedError(step, `the ${stage} version of secret ${name} has no SecretString`);
    return rotator.parse(out.SecretString);
  };

  const hasPendingValue = async () => {
    try {
      await read('AWSPENDING');
      return true;
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return false;
      throw err;
    }
  };

  try {
    switch (step) {
      case 'createSecret': {
        const current = await read('AWSCURRENT');
        if (await hasPendingValue()) {
          log.info('createSecret: AWSPENDING already has a value', { secret: name, version: token });
          return;
        }
        let pending;
        try {
          pending = await rotator.create(current);
        } catch (err) {
          // A concurrent invocation for the same token may have taken the free key slot and
          // stored its value: then this rotation is fine and only this attempt lost.
          if (await hasPendingValue()) {
            log.warn('createSecret: another invocation created the pending value first', {
              secret: name,
              version: token,
            });
            return;
          }
          throw err;
        }
        try {
          await sm.send(
            new PutSecretValueCommand({
              SecretId: arn,
              ClientRequestToken: token,
              SecretString: rotator.serialize(pending),
              VersionStages: ['AWSPENDING'],
            }),
          );
        } catch (err) {
          // A concurrent invocation for the same token stored its value first: ours loses.
          await rotator.discard(pending, current);
          if ((err as Error).name === 'ResourceExistsException') {
            log.warn('createSecret: another invocation stored the pending value first; discarded ours', {
              secret: name,
              version: token,
            });
            return;
          }
          throw err;
        }
        log.info('createSecret: pending version stored', { secret: name, version: token, rotator: rotator.kind });
        return;
      }
      case 'setSecret': {
        await rotator.set(await read('AWSPENDING'), await read('AWSCURRENT'));
        log.info('setSecret: new credential in place', { secret: name, version: token });
        return;
      }
      case 'testSecret': {
        const pending = await read('AWSPENDING');
        try {
          await rotator.test(pending);
        } catch (err) {
          await rotator.discard(pending, await read('AWSCURRENT'));
          await sm.send(
            new UpdateSecretVersionStageCommand({
              SecretId: arn,
              VersionStage: 'AWSPENDING',
              RemoveFromVersionId: token,
            }),
          );
          log.warn('testSecret failed: new credential discarded, AWSPENDING removed, AWSCURRENT unchanged', {
            secret: name,
            version: token,
          });
          throw new RotationFailedError('testSecret', `testSecret failed for secret ${name}: ${safeMessage(err)}`);
        }
        log.info('testSecret: new credential works', { secret: name, version: token });
        return;
      }
      case 'finishSecret': {
        const again = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
        const current = Object.entries(again.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
        if (current !== token) {
          await sm.send(
            new UpdateSecretVersionStageCommand({
              SecretId: arn,
              VersionStage: 'AWSCURRENT',
              MoveToVersionId: token,
              ...(current ? { RemoveFromVersionId: current } : {}),
            }),
          );
        }
        await sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId: arn,
            VersionStage: 'AWSPENDING',
            RemoveFromVersionId: token,
          }),
        );
        if ((described.Tags ?? []).some((t) => t.Key === FAILED_STEP_TAG))
          await sm.send(new UntagResourceCommand({ SecretId: arn, TagKeys: [FAILED_STEP_TAG] }));
        log.info('finishSecret: new version is AWSCURRENT', { secret: name, version: token, previous: current });
        return;
      }
    }
  } catch (err) {
    try {
      await sm.send(
        new TagResourceCommand({ SecretId: arn, Tags: [{ Key: FAILED_STEP_TAG, Value: `${step}@${token}` }] }),
      );
    } catch {
      // The tag only names the failed step for the rotation machine; the error below says it too.
    }
    if (err instanceof RotationFailedError || err instanceof RefusedError) throw err;
    // Without the cause: the low-level error is not redacted, and this one reaches logs and the execution history.
    throw new RotationFailedError(step, `${step} failed for secret ${name}: ${safeMessage(err)}`);
  }
}

function rotatorKindOf(described: DescribeSecretCommandOutput): RotatorKind {
  const tag = described.Tags?.find((t) => t.Key === ROTATOR_TAG)?.Value;
  const parsed = RotatorKindSchema.safeParse(tag);
  if (!parsed.success) {
    throw new RefusedError(
      `secret ${described.Name ?? described.ARN}: tag ${ROTATOR_TAG} must be one of ${RotatorKindSchema.options.join(', ')}${tag ? ` (found "${tag}")` : ' (missing)'}`,
    );
  }
  return parsed.data;
}
