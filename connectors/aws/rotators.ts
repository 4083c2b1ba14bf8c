import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import axios from 'axios';
import type { SecretHasher } from '@core/finding/identity';
import type { RotatorKind } from '@core/rotation/model';
import type { Rotator } from '@core/rotation/ports';
import { DEFAULT_RETRY_POLICY } from '../http/retrying-http';
import {
  generatedCredentialRotator,
  httpCredentialTarget,
  type CredentialTarget,
} from '../rotation/generated-credential-rotator';
import { iamAccessKeyRotator } from '../rotation/iam-access-key-rotator';

export interface RotationComponents {
  secretsManager: SecretsManagerClient;
  iam: IAMClient;
  rotatorFor(kind: RotatorKind): Rotator;
}

/**
 * The SDK clients and rotators. The SDK itself honours AWS_ENDPOINT_URL_SECRETS_MANAGER,
 * AWS_ENDPOINT_URL_IAM and AWS_ENDPOINT_URL_STS. `keyRef` names a key without its id.
 */
export function rotationComponents(
  hasher: SecretHasher,
  options: { target?: CredentialTarget; secretsManager?: SecretsManagerClient; iam?: IAMClient } = {},
): RotationComponents {
  const secretsManager = options.secretsManager ?? new SecretsManagerClient({});
  const iam = options.iam ?? new IAMClient({});
  const target = options.target ?? httpCredentialTarget(axios.create({ timeout: 10_000 }), DEFAULT_RETRY_POLICY);
  const iamRotator = iamAccessKeyRotator({ iam, keyRef: (id) => hasher.hash(id).slice(0, 16) });
  const generated = generatedCredentialRotator(secretsManager, target);
  return { secretsManager, iam, rotatorFor: (kind) => (kind === 'iam_access_key' ? iamRotator : generated) as Rotator };
}
