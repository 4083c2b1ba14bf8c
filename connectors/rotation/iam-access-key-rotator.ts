import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  ListAccessKeysCommand,
  type AccessKeyMetadata,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { CloseloopError } from '@core/shared/errors';
import type { Rotator } from '@core/rotation/ports';
import { parseSecretJson } from './secret-json';

/** The secret JSON of an IAM user's access key. */
export const IamAccessKeySecretSchema = z.object({
  userName: z.string().min(1),
  accessKeyId: z.string().regex(/^[A-Z0-9]{16,128}$/, 'must be an access key id'),
  secretAccessKey: z.string().min(1),
});
export type IamAccessKeySecret = z.infer<typeof IamAccessKeySecretSchema>;

export interface IamAccessKeyRotatorOptions {
  iam: IAMClient;
  /** An STS client signing with the given key (tests substitute their own). */
  stsWith?: (credentials: { accessKeyId: string; secretAccessKey: string }) => STSClient;
  /** Names a key in messages without its id (a short HMAC). */
  keyRef: (accessKeyId: string) => string;
  /** A new IAM key takes a few seconds to work everywhere: testSecret tries this often… */
  testAttempts?: number;
  /** …this many milliseconds apart. */
  testIntervalMs?: number;
  /** A never-used extra key younger than this is the remains of an interrupted createSecret. */
  orphanWindowMs?: number;
  now?: () => Date;
}

/** The two-keys-per-user limit blocks the rotation and closeloop may not free a slot. */
export class AccessKeyLimitError extends CloseloopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AccessKeyLimit';
  }
}

/**
 * Rotates an IAM user's access key: createSecret creates the user's second key (freeing the
 * slot first when the other key is inactive or an orphan of an interrupted create), testSecret
 * calls STS GetCallerIdentity with the new key and checks it is that user. The old key stays
 * active for the grace period; the rotation machine deactivates and later deletes it.
 */
export function iamAccessKeyRotator(options: IamAccessKeyRotatorOptions): Rotator<IamAccessKeySecret> {
  const { iam, keyRef } = options;
  const now = options.now ?? (() => new Date());
  const stsWith = options.stsWith ?? ((credentials) => new STSClient({ credentials }));
  const orphanWindowMs = options.orphanWindowMs ?? 60 * 60 * 1000;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const freeSlot = async (userName: string, currentKeyId: string) => {
    const keys: AccessKeyMetadata[] =
      (await iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? [];
    if (keys.length < 2) return;
    for (const other of keys.filter((k) => k.AccessKeyId !== currentKeyId)) {
      const ref = keyRef(other.AccessKeyId!);
      if (other.Status === 'Inactive') {
        await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: other.AccessKeyId }));
        continue;
      }
      const lastUsed = (await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: other.AccessKeyId })))
        .AccessKeyLastUsed?.LastUsedDate;
      const young = other.CreateDate !== undefined && now().getTime() - other.CreateDate.getTime() < orphanWindowMs;
      if (!lastUsed && young) {
        // Created by a createSecret that stopped before storing it: nobody can hold its secret.
        await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: other.AccessKeyId }));
        continue;
      }
      throw new AccessKeyLimitError(
        `IAM user ${userName} already has two access keys and the other one (key-hmac:${ref}) is active: the previous rotation's grace period is not over, or that key is not managed by this secret`,
      );
    }
  };

  return {
    kind: 'iam_access_key',
    parse(secretString) {
      return parseSecretJson(
        secretString,
        IamAccessKeySecretSchema,
        'an IAM access key {"userName","accessKeyId","secretAccessKey"}',
      );
    },
    serialize: (value) => JSON.stringify(value),
    async create(current) {
      await freeSlot(current.userName, current.accessKeyId);
      try {
        const created = await iam.send(new CreateAccessKeyCommand({ UserName: current.userName }));
        const key = created.AccessKey;
        if (!key?.AccessKeyId || !key.SecretAccessKey)
          throw new CloseloopError(`CreateAccessKey for ${current.userName} returned no key`);
        return { userName: current.userName, accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
      } catch (err) {
        if ((err as Error).name === 'LimitExceededException')
          throw new AccessKeyLimitError(`IAM user ${current.userName} already has two access keys`, { cause: err });
        throw err;
      }
    },
    async set() {
      // An IAM key works as soon as it exists: nothing to put in place.
    },
    async test(pending) {
      const attempts = options.testAttempts ?? 8;
      let lastError: unknown;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          const identity = await stsWith({
            accessKeyId: pending.accessKeyId,
            secretAccessKey: pending.secretAccessKey,
          }).send(new GetCallerIdentityCommand({}));
          if (!identity.Arn?.endsWith(`:user/${pending.userName}`) && !identity.Arn?.includes(`/${pending.userName}`)) {
            throw new CloseloopError(
              `the new key signs as ${identity.Arn ?? 'nobody'}, not as IAM user ${pending.userName}`,
            );
          }
          return;
        } catch (err) {
          lastError = err;
          if (attempt < attempts) await sleep((options.testIntervalMs ?? 2500) * attempt);
        }
      }
      throw lastError instanceof Error ? lastError : new CloseloopError(String(lastError));
    },
    async discard(pending, current) {
      if (pending.accessKeyId === current.accessKeyId) return;
      try {
        await iam.send(new DeleteAccessKeyCommand({ UserName: pending.userName, AccessKeyId: pending.accessKeyId }));
      } catch (err) {
        if ((err as Error).name !== 'NoSuchEntityException') throw err;
      }
    },
  };
}
