import type { Finding } from '@core/finding/model';
import { ROTATOR_TAG, quarantinePolicyArn } from '@core/rotation/model';
import type { AccessKeyRef, CredentialControl } from '@core/rotation/ports';

const ROTATABLE_BY_GENERATED_CREDENTIAL = new Set([
  'api_key',
  'password',
  'database_credential',
  'oauth_token',
  'generic_secret',
]);

/**
 * CredentialControl with no AWS: every call is recorded as the plan of what would be called,
 * none is made. It assumes the lookups succeed (a managed secret holds the finding's
 * credential), so the plan shows the whole rotation; all evidence it leads to is marked
 * simulated and never closes a finding.
 */
export function dryRunCredentialControl(): CredentialControl {
  const calls: string[] = [];
  const plan = (text: string) => calls.push(`[dry run] ${text}`);
  const user = 'the IAM user named in the secret';
  return {
    simulated: true,
    drainCalls: () => calls.splice(0, calls.length),
    async findManagedSecret(finding: Finding) {
      plan(
        `secretsmanager:ListSecrets tag-key=${ROTATOR_TAG}; GetSecretValue of each; compare HMAC with the finding's`,
      );
      const rotator =
        finding.nhiType === 'cloud_access_key'
          ? 'iam_access_key'
          : ROTATABLE_BY_GENERATED_CREDENTIAL.has(finding.nhiType)
            ? 'generated_credential'
            : undefined;
      if (!rotator) return undefined;
      return {
        secretArn: `dry-run:secret-holding-${finding.id}`,
        name: `(dry run) the managed secret holding ${finding.secretPreview ?? finding.id}`,
        rotator,
      };
    },
    async findLeakedAccessKey() {
      plan("iam:ListUsers; ListAccessKeys of each; compare HMAC of each key id with the finding's");
      return undefined;
    },
    async startRotation(secretArn, token) {
      plan(
        `secretsmanager:RotateSecret ${secretArn} ClientRequestToken=${token} (createSecret, setSecret, testSecret, finishSecret)`,
      );
      return 'started';
    },
    async rotationProgress(secretArn) {
      plan(`secretsmanager:DescribeSecret ${secretArn} (until AWSPENDING is cleared)`);
      return { status: 'succeeded' };
    },
    async previousAccessKey(secretArn) {
      plan(`secretsmanager:GetSecretValue ${secretArn} AWSPREVIOUS (the rotated-out key)`);
      return { userName: user, keyRef: 'dry-run' };
    },
    async currentAccessKey(secretArn) {
      plan(`secretsmanager:GetSecretValue ${secretArn} AWSCURRENT (the leaked key)`);
      return { userName: user, keyRef: 'dry-run-current' };
    },
    async quarantineUser(userName) {
      plan(`iam:AttachUserPolicy user=${userName} ${quarantinePolicyArn()}`);
    },
    async liftQuarantine(userName) {
      plan(`iam:DetachUserPolicy user=${userName} ${quarantinePolicyArn()}`);
    },
    async accessKeyStatus(key: AccessKeyRef) {
      plan(`iam:ListAccessKeys user=${key.userName}`);
      return 'Inactive';
    },
    async deactivateAccessKey(key) {
      plan(`iam:UpdateAccessKey user=${key.userName} Status=Inactive`);
    },
    async deleteAccessKey(key) {
      plan(`iam:DeleteAccessKey user=${key.userName}`);
    },
    async abandonRotation(secretArn, token) {
      plan(`secretsmanager:UpdateSecretVersionStage ${secretArn} remove AWSPENDING from ${token}`);
    },
    async createReplacementKey(userName, findingId) {
      const name = `closeloop.replacement-key.${userName}.${findingId}`;
      plan(`iam:CreateAccessKey user=${userName}; secretsmanager:CreateSecret ${name}`);
      return { secretArn: `dry-run:${name}`, name };
    },
  };
}
