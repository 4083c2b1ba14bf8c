import { ListRoleTagsCommand, ListUserTagsCommand, type IAMClient } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Asset } from '@core/finding/model';
import type { ResourceTags } from '@core/policy/ports';

type Tag = { Key?: string | undefined; Value?: string | undefined };

/**
 * The owner tag of an AWS resource, for triage's owner chain: IAM users and roles (ListUserTags,
 * ListRoleTags; the IAM user of an access key ARN), and Secrets Manager secrets (DescribeSecret).
 * The first of `tagKeys` present wins. Other resources, and resources it may not read, have no
 * owner tag (the chain goes on to the configured mappings).
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
  return {
    async ownerTagOf(asset: Asset) {
      if (asset.type !== 'aws_resource' || !asset.id.startsWith('arn:')) return undefined;
      const [, , service, , , resource = ''] = asset.id.split(':');
      try {
        if (service === 'iam') {
          const [kind, ...path] = resource.split('/');
          const name = path[path.length - 1];
          if (!name) return undefined;
          if (kind === 'user') return pick((await clients.iam.send(new ListUserTagsCommand({ UserName: name }))).Tags);
          if (kind === 'role') return pick((await clients.iam.send(new ListRoleTagsCommand({ RoleName: name }))).Tags);
          return undefined;
        }
        if (service === 'secretsmanager')
          return pick((await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: asset.id }))).Tags);
      } catch (err) {
        onError(`owner tag of ${asset.id} not read: ${(err as Error).name}`);
      }
      return undefined;
    },
  };
}
