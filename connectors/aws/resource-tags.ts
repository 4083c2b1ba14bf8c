import { ListRoleTagsCommand, ListUserTagsCommand, type IAMClient } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Asset } from '@core/finding/model';
import type { OwnerTag, ResourceTags } from '@core/policy/ports';

type Tag = { Key?: string | undefined; Value?: string | undefined };

/** The resource is gone: it has no owner tag (IAM's NoSuchEntity, Secrets Manager's ResourceNotFound). */
const GONE = new Set(['NoSuchEntityException', 'NoSuchEntity', 'ResourceNotFoundException']);

/**
 * The owner tag of an AWS resource, for triage's owner chain: IAM users and roles (ListUserTags,
 * ListRoleTags; the IAM user of an access key ARN), and Secrets Manager secrets (DescribeSecret).
 * The first of `tagKeys` present wins. Other resources, and resources that no longer exist, have
 * no owner tag. Tags it could not read (denied, throttled, unreachable) are `unreadable`, with the
 * error's name and the call: the owner chain goes on, and the finding and its ticket say why the
 * tag was not used, rather than that there was none.
 */
export function awsResourceTags(
  clients: { iam: IAMClient; secretsManager: SecretsManagerClient },
  tagKeys: string[],
  onError: (message: string) => void = () => undefined,
): ResourceTags {
  const pick = (tags: Tag[] | undefined) => {
    for (const key of tagKeys) {
      const value = tags?.find((t) => t.Key === key)?.Value?.trim();
      if (value) return value;
    }
    return undefined;
  };
  const read = async (call: string, asset: Asset, tags: () => Promise<Tag[] | undefined>): Promise<OwnerTag> => {
    try {
      return pick(await tags());
    } catch (err) {
      const name = (err as Error).name;
      if (GONE.has(name)) return undefined;
      onError(`owner tag of ${asset.id} not read: ${name} from ${call}`);
      return { unreadable: `${name} from ${call}` };
    }
  };
  return {
    async ownerTagOf(asset: Asset) {
      if (asset.type !== 'aws_resource' || !asset.id.startsWith('arn:')) return undefined;
      const [, , service, , , resource = ''] = asset.id.split(':');
      if (service === 'iam') {
        const [kind, ...path] = resource.split('/');
        const name = path[path.length - 1];
        if (!name) return undefined;
        if (kind === 'user')
          return read(
            'iam:ListUserTags',
            asset,
            async () => (await clients.iam.send(new ListUserTagsCommand({ UserName: name }))).Tags,
          );
        if (kind === 'role')
          return read(
            'iam:ListRoleTags',
            asset,
            async () => (await clients.iam.send(new ListRoleTagsCommand({ RoleName: name }))).Tags,
          );
        return undefined;
      }
      if (service === 'secretsmanager')
        return read(
          'secretsmanager:DescribeSecret',
          asset,
          async () => (await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: asset.id }))).Tags,
        );
      return undefined;
    },
  };
}
