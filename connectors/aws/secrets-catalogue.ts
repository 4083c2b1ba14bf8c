import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ROTATOR_TAG, RotatorKindSchema } from '@core/rotation/model';
import type { SecretCatalogue } from '@core/rotation/ports';

/** The managed secrets as Secrets Manager describes them (DescribeSecret: names, tags, version stages; never a value). */
export function awsSecretCatalogue(secretsManager: SecretsManagerClient): SecretCatalogue {
  return {
    async describe(secretId) {
      const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
      const arn = described.ARN ?? secretId;
      const rotator = RotatorKindSchema.safeParse(described.Tags?.find((t) => t.Key === ROTATOR_TAG)?.Value);
      const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      return {
        arn,
        name: described.Name ?? arn,
        ...(rotator.success ? { rotator: rotator.data } : {}),
        ...(current ? { currentVersion: current } : {}),
      };
    },
  };
}
