import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsCredentialControl } from '@connectors/aws/credential-control';
import { runRotationProtocolStep, type RotationEvent, type RotationLog } from '@connectors/rotation/protocol';
import { generatedCredentialRotator, type CredentialTarget } from '@connectors/rotation/generated-credential-rotator';
import { iamAccessKeyRotator } from '@connectors/rotation/iam-access-key-rotator';
import type { RotatorKind } from '@core/rotation/model';
import type { Rotator } from '@core/rotation/ports';
import { aHasher } from './factories';
import { FakeIam, FakeSecretsManager, FakeSts } from './fake-aws';

/**
 * Secrets Manager, IAM and STS as stateful fakes (aws-sdk-client-mock), the real rotation
 * protocol and rotators wired as the rotation Lambda, and the AWS CredentialControl over them.
 * Every log line the protocol writes is kept, to prove no secret value is in one.
 */
export function aRotationWorld(options: { target?: CredentialTarget } = {}) {
  const sm = new FakeSecretsManager();
  const iam = new FakeIam();
  const sts = new FakeSts(iam);
  const hasher = aHasher();
  const logLines: string[] = [];
  const log: RotationLog = {
    info: (message, details) => logLines.push(JSON.stringify({ level: 'INFO', message, ...details })),
    warn: (message, details) => logLines.push(JSON.stringify({ level: 'WARN', message, ...details })),
  };
  const secretsManager = new SecretsManagerClient({ region: 'eu-west-1' });
  const iamClient = new IAMClient({ region: 'us-east-1' });
  const keyRef = (id: string) => hasher.hash(id).slice(0, 16);
  const iamRotator = iamAccessKeyRotator({ iam: iamClient, keyRef, testAttempts: 2, testIntervalMs: 1 });
  const generated = generatedCredentialRotator(
    secretsManager,
    options.target ?? { register: async () => undefined, verify: async () => undefined },
  );
  const rotatorFor = (kind: RotatorKind) => (kind === 'iam_access_key' ? iamRotator : generated) as Rotator;
  const protocolErrors: string[] = [];
  const lambda = async (event: RotationEvent) => {
    try {
      await runRotationProtocolStep(event, { secretsManager, rotatorFor, log });
    } catch (err) {
      protocolErrors.push(`${(err as Error).name}: ${(err as Error).message}`);
      throw err;
    }
  };
  sm.rotationLambda = lambda;
  const control = awsCredentialControl({ secretsManager, iam: iamClient, hasher, rotatorFor });

  /** An IAM user with one key, and a managed secret holding it. */
  const managedIamUser = (userName: string) => {
    const key = iam.addUser(userName);
    const secretArn = sm.addSecret({
      name: `app/${userName}/access-key`,
      rotator: 'iam_access_key',
      value: JSON.stringify({ userName, accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey }),
    });
    return { key, secretArn };
  };

  /** Every secret value the world has ever held: none may appear in logs, errors, state or the table. */
  const allSecretValues = () => {
    const values = new Set<string>();
    for (const keys of iam.users.values()) for (const k of keys) values.add(k.SecretAccessKey);
    for (const s of sm.secrets.values()) {
      for (const v of s.versions.values()) {
        if (!v.value) continue;
        try {
          const parsed = JSON.parse(v.value) as Record<string, unknown>;
          if (typeof parsed.secretAccessKey === 'string') values.add(parsed.secretAccessKey);
          if (typeof parsed.value === 'string') values.add(parsed.value);
        } catch {
          values.add(v.value);
        }
      }
    }
    return [...values];
  };

  return {
    sm,
    iam,
    sts,
    hasher,
    logLines,
    protocolErrors,
    secretsManager,
    iamClient,
    rotatorFor,
    lambda,
    control,
    managedIamUser,
    allSecretValues,
    restore() {
      sm.restore();
      iam.restore();
      sts.restore();
    },
  };
}
