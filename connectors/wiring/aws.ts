import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretHasher } from '@core/finding/identity';
import type { Policy } from '@core/policy/policy';
import type { OwnerDirectory, ResourceTags } from '@core/policy/ports';
import type { CredentialControl } from '@core/rotation/ports';
import { awsCredentialControl } from '../aws/credential-control';
import { dryRunCredentialControl } from '../aws/dry-run-credential-control';
import { awsResourceTags } from '../aws/resource-tags';
import { rotationComponents, type RotationComponents } from '../aws/rotators';
import type { LambdaServices } from './lambda';

/**
 * The AWS side of the hub's wiring: one IAM and one Secrets Manager client per process (the SDK
 * honours AWS_ENDPOINT_URL_IAM / _SECRETS_MANAGER / _STS), rotation, and the owner chain.
 */
export interface AwsClients {
  iam: IAMClient;
  secretsManager: SecretsManagerClient;
}

export const awsClients = (): AwsClients => ({ iam: new IAMClient({}), secretsManager: new SecretsManagerClient({}) });

/** Rotation: the credential control the rotation machine's steps use and, on AWS, the rotators behind it. */
export interface Rotation {
  control: CredentialControl;
  /** The SDK clients and rotators; absent in the dry run. */
  components?: RotationComponents;
}

/**
 * Against AWS when its clients are given (deployed, or locally with an endpoint configured);
 * otherwise a dry run that records the calls it would make.
 */
export function buildRotation(hasher: SecretHasher, clients: AwsClients | undefined): Rotation {
  return clients ? awsRotation(hasher, clients) : { control: dryRunCredentialControl() };
}

/** Rotation against AWS: the rotators and the credential control over the same clients. */
export function awsRotation(hasher: SecretHasher, clients: AwsClients): Required<Rotation> {
  const components = rotationComponents(hasher, clients);
  return { components, control: awsCredentialControl({ ...components, hasher }) };
}

/**
 * Triage's owner chain, first match wins: the CMDB owner of the asset (`directory`), the owner
 * tag of the AWS resource (when AWS is reachable: `clients`), then the policy's mappings and the
 * identity programme's queue, which core/policy/ownership.ts applies itself.
 */
export function buildOwnerChain(options: {
  policy: Policy;
  directory?: OwnerDirectory | undefined;
  clients?: AwsClients | undefined;
  warn?: (message: string) => void;
}): { directory?: OwnerDirectory; tags?: ResourceTags } {
  return {
    ...(options.directory ? { directory: options.directory } : {}),
    ...(options.clients ? { tags: awsResourceTags(options.clients, options.policy.ownerTagKeys, options.warn) } : {}),
  };
}

/** On AWS: rotation against the account, built once the deployment key (which names keys by HMAC) is read. */
export function lambdaRotation(services: LambdaServices) {
  const deploymentKey = services.deploymentKey();
  const clients = awsClients();
  let built: Required<Rotation> | undefined;
  return {
    deploymentKey,
    async rotation(): Promise<Required<Rotation>> {
      built ??= awsRotation(await deploymentKey.hasher(), clients);
      return built;
    },
  };
}
