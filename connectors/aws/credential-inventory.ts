import {
  GetAccessKeyLastUsedCommand,
  ListAccessKeysCommand,
  paginateListUsers,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { paginateListSecrets, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretHasher } from '@core/finding/identity';
import type { AccessKeyInventoryItem, CredentialInventory, SecretInventoryItem } from '@core/rotation/hygiene';
import { ROTATOR_TAG, RotatorKindSchema } from '@core/rotation/model';

/**
 * The account's credentials as the hygiene check needs them: every secret's dates (ListSecrets,
 * no values) and every IAM user's access keys with their last use. Key ids are reduced to an
 * HMAC reference here and go no further.
 */
export async function readCredentialInventory(
  clients: { secretsManager: SecretsManagerClient; iam: IAMClient },
  hasher: SecretHasher,
): Promise<CredentialInventory> {
  const secrets: SecretInventoryItem[] = [];
  for await (const page of paginateListSecrets({ client: clients.secretsManager }, {})) {
    for (const s of page.SecretList ?? []) {
      if (!s.ARN) continue;
      const rotator = RotatorKindSchema.safeParse(s.Tags?.find((t) => t.Key === ROTATOR_TAG)?.Value);
      secrets.push({
        arn: s.ARN,
        name: s.Name ?? s.ARN,
        ...(s.CreatedDate ? { createdAt: s.CreatedDate.toISOString() } : {}),
        ...(s.LastRotatedDate ? { lastRotatedAt: s.LastRotatedDate.toISOString() } : {}),
        ...(rotator.success ? { rotator: rotator.data } : {}),
      });
    }
  }
  const accessKeys: AccessKeyInventoryItem[] = [];
  let account: string | undefined;
  for await (const page of paginateListUsers({ client: clients.iam }, {})) {
    for (const user of page.Users ?? []) {
      if (!user.UserName || !user.Arn) continue;
      account ??= user.Arn.split(':')[4];
      const keys =
        (await clients.iam.send(new ListAccessKeysCommand({ UserName: user.UserName }))).AccessKeyMetadata ?? [];
      for (const key of keys) {
        if (!key.AccessKeyId || !key.CreateDate) continue;
        const lastUsed = (await clients.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.AccessKeyId })))
          .AccessKeyLastUsed?.LastUsedDate;
        accessKeys.push({
          userName: user.UserName,
          userArn: user.Arn,
          keyRef: hasher.hash(key.AccessKeyId).slice(0, 16),
          status: key.Status === 'Active' ? 'Active' : 'Inactive',
          createdAt: key.CreateDate.toISOString(),
          ...(lastUsed ? { lastUsedAt: lastUsed.toISOString() } : {}),
        });
      }
    }
  }
  return { ...(account ? { account } : {}), secrets, accessKeys };
}
