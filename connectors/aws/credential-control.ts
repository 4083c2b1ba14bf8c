import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  DetachUserPolicyCommand,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  UpdateAccessKeyCommand,
  paginateListUsers,
  type AccessKeyMetadata,
  type IAMClient,
} from '@aws-sdk/client-iam';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
  paginateListSecrets,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretHasher } from '@core/finding/identity';
import { CloseloopError } from '@core/shared/errors';
import { SecretValueError } from '../rotation/secret-json';
import type { Finding } from '@core/finding/model';
import {
  FAILED_STEP_TAG,
  ROTATOR_TAG,
  RotatorKindSchema,
  quarantinePolicyArn,
  rotationTokenFor,
} from '@core/rotation/model';
import type {
  AccessKeyRef,
  CredentialControl,
  ManagedSecretRef,
  RotationProgress,
  Rotator,
} from '@core/rotation/ports';
import type { RotatorKind } from '@core/rotation/model';

/** Another rotation of the secret is running; the state machine retries later. */
export class RotationInProgressError extends CloseloopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // The name the rotation machine's Retry matches (statemachines/secret-rotation.asl.json).
    this.name = 'RotationInProgress';
  }
}

export interface AwsCredentialControlOptions {
  secretsManager: SecretsManagerClient;
  iam: IAMClient;
  hasher: SecretHasher;
  /** The rotators, to read a secret's value and discard an abandoned pending credential. */
  rotatorFor(kind: RotatorKind): Rotator;
  /** Name prefix of replacement-key secrets. @default closeloop.replacement-key */
  replacementPrefix?: string;
}

type StageMap = Record<string, string[]>;

/** The partition of a Region: AWS's managed policies are named in it. */
export const partitionOfRegion = (region: string | undefined) =>
  region?.startsWith('cn-') ? 'aws-cn' : region?.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';

/**
 * CredentialControl on AWS: Secrets Manager and IAM through the SDK (or the endpoints in
 * AWS_ENDPOINT_URL_SECRETS_MANAGER / _IAM / _STS). Secret values are read only to compare
 * their HMAC with a finding's and never leave this module.
 */
export function awsCredentialControl(options: AwsCredentialControlOptions): CredentialControl {
  const { secretsManager: sm, iam, hasher } = options;
  const calls: string[] = [];
  const keyRef = (accessKeyId: string) => hasher.hash(accessKeyId).slice(0, 16);
  const call = (text: string) => calls.push(text);

  const stagesOf = async (secretArn: string) => {
    call(`secretsmanager:DescribeSecret ${secretArn}`);
    const d = await sm.send(new DescribeSecretCommand({ SecretId: secretArn }));
    return { described: d, stages: (d.VersionIdsToStages ?? {}) as StageMap };
  };
  const rotatorOf = (tags: Array<{ Key?: string; Value?: string }> | undefined) => {
    const parsed = RotatorKindSchema.safeParse(tags?.find((t) => t.Key === ROTATOR_TAG)?.Value);
    return parsed.success ? parsed.data : undefined;
  };
  const readValue = async (secretArn: string, stage: string, versionId?: string) => {
    const out = await sm.send(
      new GetSecretValueCommand({
        SecretId: secretArn,
        VersionStage: stage,
        ...(versionId ? { VersionId: versionId } : {}),
      }),
    );
    return out.SecretString;
  };
  const keysOf = async (userName: string): Promise<AccessKeyMetadata[]> => {
    call(`iam:ListAccessKeys user=${userName}`);
    return (await iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? [];
  };
  const findKey = async (key: AccessKeyRef) =>
    (await keysOf(key.userName)).find((k) => k.AccessKeyId && keyRef(k.AccessKeyId) === key.keyRef);

  /** Whether the policy is attached to the user (a user has at most 10 managed policies: one page). */
  const quarantined = async (userName: string, arn: string) => {
    call(`iam:ListAttachedUserPolicies user=${userName}`);
    const out = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName }));
    return (out.AttachedPolicies ?? []).some((p) => p.PolicyArn === arn);
  };

  /** HMACs a secret value may have been reported under (the whole value, or its parts). */
  const hashesOf = (kind: RotatorKind, secretString: string): string[] => {
    try {
      const value = options.rotatorFor(kind).parse(secretString) as Record<string, unknown>;
      if (kind === 'iam_access_key') {
        const id = String(value.accessKeyId);
        const secret = String(value.secretAccessKey);
        return [hasher.hash(id), hasher.hash(secret), hasher.hash(`${id}${secret}`)];
      }
      return [hasher.hash(String(value.value))];
    } catch (err) {
      // A value that is not the rotator's JSON may itself be what a scanner reported.
      if (!(err instanceof SecretValueError)) throw err;
      return [hasher.hash(secretString)];
    }
  };

  return {
    simulated: false,
    drainCalls: () => calls.splice(0, calls.length),

    async findManagedSecret(finding: Finding): Promise<ManagedSecretRef | undefined> {
      call(`secretsmanager:ListSecrets tag-key=${ROTATOR_TAG}`);
      for await (const page of paginateListSecrets(
        { client: sm },
        { Filters: [{ Key: 'tag-key', Values: [ROTATOR_TAG] }] },
      )) {
        for (const s of page.SecretList ?? []) {
          const rotator = rotatorOf(s.Tags);
          if (!s.ARN || !rotator) continue;
          const named = finding.asset.id === s.ARN || finding.asset.id === s.Name;
          if (!named && !finding.secretHash) continue;
          if (!named) {
            call(`secretsmanager:GetSecretValue ${s.Name ?? s.ARN} AWSCURRENT (compare HMAC)`);
            const value = await readValue(s.ARN, 'AWSCURRENT');
            if (value === undefined || !hashesOf(rotator, value).includes(finding.secretHash!)) continue;
          }
          return { secretArn: s.ARN, name: s.Name ?? s.ARN, rotator };
        }
      }
      return undefined;
    },

    async findLeakedAccessKey(finding: Finding): Promise<AccessKeyRef | undefined> {
      if (!finding.secretHash) return undefined;
      call('iam:ListUsers');
      for await (const page of paginateListUsers({ client: iam }, {})) {
        for (const user of page.Users ?? []) {
          for (const key of await keysOf(user.UserName!)) {
            if (key.AccessKeyId && hasher.hash(key.AccessKeyId) === finding.secretHash)
              return { userName: user.UserName!, keyRef: keyRef(key.AccessKeyId) };
          }
        }
      }
      return undefined;
    },

    async startRotation(secretArn, token) {
      const { stages } = await stagesOf(secretArn);
      if (stages[token]) return 'joined';
      const other = Object.entries(stages).find(([, s]) => s.includes('AWSPENDING'));
      if (other)
        throw new RotationInProgressError(
          `another rotation of ${secretArn} is in progress (version ${other[0]} is AWSPENDING)`,
        );
      call(`secretsmanager:RotateSecret ${secretArn} ClientRequestToken=${token}`);
      try {
        await sm.send(new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: token }));
      } catch (err) {
        if ((err as Error).name === 'InvalidRequestException' && /previous rotation/i.test((err as Error).message))
          throw new RotationInProgressError(`another rotation of ${secretArn} is in progress`, { cause: err });
        throw err;
      }
      return 'started';
    },

    async rotationProgress(secretArn, token): Promise<RotationProgress> {
      const { described, stages } = await stagesOf(secretArn);
      const failed = described.Tags?.find((t) => t.Key === FAILED_STEP_TAG)?.Value;
      const mine = stages[token] ?? [];
      if (mine.includes('AWSCURRENT')) return { status: 'succeeded' };
      if (failed?.endsWith(`@${token}`)) return { status: 'failed', failedStep: failed.split('@')[0]! };
      if (mine.includes('AWSPENDING')) return { status: 'pending' };
      return {
        status: 'failed',
        failedStep: 'unknown step (the new version lost AWSPENDING without becoming AWSCURRENT)',
      };
    },

    async previousAccessKey(secretArn) {
      const { described, stages } = await stagesOf(secretArn);
      if (rotatorOf(described.Tags) !== 'iam_access_key') return undefined;
      const previous = Object.entries(stages).find(([, s]) => s.includes('AWSPREVIOUS'))?.[0];
      if (!previous) return undefined;
      call(`secretsmanager:GetSecretValue ${described.Name ?? secretArn} AWSPREVIOUS (user and key id)`);
      const value = await readValue(secretArn, 'AWSPREVIOUS', previous);
      if (value === undefined) return undefined;
      const parsed = options.rotatorFor('iam_access_key').parse(value) as { userName: string; accessKeyId: string };
      return { userName: parsed.userName, keyRef: keyRef(parsed.accessKeyId) };
    },

    async currentAccessKey(secretArn) {
      call(`secretsmanager:GetSecretValue ${secretArn} AWSCURRENT (user and key id)`);
      const value = await readValue(secretArn, 'AWSCURRENT');
      if (value === undefined) return undefined;
      const parsed = options.rotatorFor('iam_access_key').parse(value) as { userName: string; accessKeyId: string };
      return { userName: parsed.userName, keyRef: keyRef(parsed.accessKeyId) };
    },

    async quarantineUser(userName) {
      const arn = quarantinePolicyArn(partitionOfRegion(await iam.config.region()));
      if (await quarantined(userName, arn)) return;
      call(`iam:AttachUserPolicy user=${userName} ${arn}`);
      await iam.send(new AttachUserPolicyCommand({ UserName: userName, PolicyArn: arn }));
    },

    async liftQuarantine(userName) {
      const arn = quarantinePolicyArn(partitionOfRegion(await iam.config.region()));
      if (!(await quarantined(userName, arn))) return;
      call(`iam:DetachUserPolicy user=${userName} ${arn}`);
      await iam.send(new DetachUserPolicyCommand({ UserName: userName, PolicyArn: arn }));
    },

    async accessKeyStatus(key) {
      const found = await findKey(key);
      return found ? (found.Status === 'Active' ? 'Active' : 'Inactive') : 'deleted';
    },

    async deactivateAccessKey(key) {
      const found = await findKey(key);
      if (!found || found.Status === 'Inactive') return;
      call(`iam:UpdateAccessKey user=${key.userName} key-hmac=${key.keyRef} Status=Inactive`);
      await iam.send(
        new UpdateAccessKeyCommand({ UserName: key.userName, AccessKeyId: found.AccessKeyId, Status: 'Inactive' }),
      );
    },

    async deleteAccessKey(key) {
      const found = await findKey(key);
      if (!found) return;
      call(`iam:DeleteAccessKey user=${key.userName} key-hmac=${key.keyRef}`);
      await iam.send(new DeleteAccessKeyCommand({ UserName: key.userName, AccessKeyId: found.AccessKeyId }));
    },

    async abandonRotation(secretArn, token) {
      const { described, stages } = await stagesOf(secretArn);
      if (!(stages[token] ?? []).includes('AWSPENDING')) return;
      const kind = rotatorOf(described.Tags);
      if (kind) {
        const rotator = options.rotatorFor(kind);
        let pendingValue: string | undefined;
        try {
          pendingValue = await readValue(secretArn, 'AWSPENDING', token);
        } catch (err) {
          // createSecret never stored one: nothing to discard. Anything else (access denied) is an error.
          if ((err as Error).name !== 'ResourceNotFoundException') throw err;
          pendingValue = undefined;
        }
        const currentValue = await readValue(secretArn, 'AWSCURRENT');
        if (pendingValue !== undefined && currentValue !== undefined) {
          call(`discard the pending ${kind.replace(/_/g, ' ')} of ${described.Name ?? secretArn}`);
          await rotator.discard(rotator.parse(pendingValue), rotator.parse(currentValue));
        }
      }
      call(`secretsmanager:UpdateSecretVersionStage ${secretArn} remove AWSPENDING from ${token}`);
      await sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretArn,
          VersionStage: 'AWSPENDING',
          RemoveFromVersionId: token,
        }),
      );
    },

    async createReplacementKey(userName, findingId) {
      const name = `${options.replacementPrefix ?? 'closeloop.replacement-key'}.${userName}.${findingId}`;
      const token = rotationTokenFor(findingId, 1, `replacement:${userName}`);
      try {
        const existing = await sm.send(new DescribeSecretCommand({ SecretId: name }));
        if (existing.ARN) return { secretArn: existing.ARN, name };
      } catch (err) {
        if ((err as Error).name !== 'ResourceNotFoundException') throw err;
      }
      const keys = await keysOf(userName);
      if (keys.length >= 2) return undefined;
      call(`iam:CreateAccessKey user=${userName}`);
      const created = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!;
      call(`secretsmanager:CreateSecret ${name} tag ${ROTATOR_TAG}=iam_access_key`);
      let out;
      try {
        out = await sm.send(
          new CreateSecretCommand({
            Name: name,
            ClientRequestToken: token,
            Description: `closeloop: replacement access key for IAM user ${userName} after ${findingId}`,
            SecretString: JSON.stringify({
              userName,
              accessKeyId: created.AccessKeyId,
              secretAccessKey: created.SecretAccessKey,
            }),
            Tags: [
              { Key: ROTATOR_TAG, Value: 'iam_access_key' },
              { Key: 'closeloop:finding', Value: findingId },
            ],
          }),
        );
      } catch (err) {
        // Not stored: nobody could use the new key, so it goes again.
        await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: created.AccessKeyId }));
        throw err;
      }
      return { secretArn: out.ARN!, name };
    },
  };
}
