import { SingleTable } from '@core/store/table';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsCredentialControl } from '@connectors/aws/credential-control';
import { rotationComponents, type RotationComponents } from '@connectors/aws/rotation-wiring';
import type { CredentialControl } from '@core/rotation/ports';
import { DynamoManagedSecretStore } from '@core/store/dynamo-managed-secret-store';
import { policyFromEnv } from './lifecycle-runtime';
import { lambdaRuntime, requiredEnv } from './runtime';

/**
 * What the rotation functions share: store, clock, policy, the managed-secret records, and the
 * SDK clients and rotators (built once the deployment key, which names keys by HMAC, is read).
 */
export function rotationRuntime(env: NodeJS.ProcessEnv = process.env) {
  const base = lambdaRuntime(env);
  const secrets = new DynamoManagedSecretStore(
    new SingleTable(new DynamoDBClient({}), requiredEnv('CLOSELOOP_TABLE', env)),
  );
  let components: (RotationComponents & { control: CredentialControl }) | undefined;
  return {
    ...base,
    policy: policyFromEnv(env),
    secrets,
    async components() {
      if (components) return components;
      const hasher = await base.hasher();
      const built = rotationComponents(hasher);
      components = { ...built, control: awsCredentialControl({ ...built, hasher }) };
      return components;
    },
  };
}
