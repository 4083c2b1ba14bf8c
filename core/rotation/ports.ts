import type { Finding } from '../finding/model';
import type { RotationState, RotatorKind } from './model';

/** A Secrets Manager secret closeloop rotates (tagged `closeloop:rotator`). */
export interface ManagedSecretRef {
  secretArn: string;
  name: string;
  rotator: RotatorKind;
}

/**
 * An IAM access key, named without its id: `keyRef` is a short HMAC of the key id under the
 * deployment key, safe to store and show, and enough to find the key again.
 */
export interface AccessKeyRef {
  userName: string;
  keyRef: string;
}

export type RotationProgress =
  { status: 'pending' } | { status: 'succeeded' } | { status: 'failed'; failedStep: string };

/**
 * The cloud side of remediation: what the rotation machine's steps do to Secrets Manager and
 * IAM. Two adapters: AWS (connectors/aws) and a dry run that records the calls it would make.
 * No method takes or returns a secret value.
 */
export interface CredentialControl {
  /** True for the dry run: nothing is called, every call is recorded, evidence is simulated. */
  readonly simulated: boolean;
  /** The calls made (or planned) since the last drain: `service:Action target`, never a secret. */
  drainCalls(): string[];
  /** The managed secret whose current value is the finding's secret (matched by HMAC). */
  findManagedSecret(finding: Finding): Promise<ManagedSecretRef | undefined>;
  /** The IAM access key whose id is the finding's secret (matched by HMAC), if in this account. */
  findLeakedAccessKey(finding: Finding): Promise<AccessKeyRef | undefined>;
  /** RotateSecret with this token; joins a rotation already running with it. */
  startRotation(secretArn: string, token: string): Promise<'started' | 'joined'>;
  rotationProgress(secretArn: string, token: string): Promise<RotationProgress>;
  /** The key the last rotation of an IAM-key secret moved out (its AWSPREVIOUS version). */
  previousAccessKey(secretArn: string): Promise<AccessKeyRef | undefined>;
  /** The key an IAM-key secret holds now (its AWSCURRENT version). */
  currentAccessKey(secretArn: string): Promise<AccessKeyRef | undefined>;
  /** Attaches AWS's managed quarantine policy (quarantinePolicyArn) to the user; attaching it twice does nothing. */
  quarantineUser(userName: string): Promise<void>;
  /** Detaches it again; nothing when it is not attached. */
  liftQuarantine(userName: string): Promise<void>;
  accessKeyStatus(key: AccessKeyRef): Promise<'Active' | 'Inactive' | 'deleted'>;
  deactivateAccessKey(key: AccessKeyRef): Promise<void>;
  deleteAccessKey(key: AccessKeyRef): Promise<void>;
  /** After a failed rotation: AWSPENDING removed, the pending credential discarded; AWSCURRENT untouched. */
  abandonRotation(secretArn: string, token: string): Promise<void>;
  /**
   * A new key for the user, stored in a new secret; undefined when the user already has two keys.
   * The name avoids long unbroken runs so that ticket text (which is redacted) shows it whole.
   */
  createReplacementKey(userName: string, findingId: string): Promise<{ secretArn: string; name: string } | undefined>;
}

/**
 * One kind of credential behind the Secrets Manager rotation protocol (connectors/rotation):
 * how a new value is made, put in place, tested and, when it loses, thrown away. `V` is the
 * parsed secret value; it is passed around in memory only.
 */
export interface Rotator<V = unknown> {
  readonly kind: RotatorKind;
  /** Parses a version's SecretString; a problem names the field, never the value. */
  parse(secretString: string): V;
  serialize(value: V): string;
  /** Makes the new credential (createSecret), e.g. CreateAccessKey or GetRandomPassword. */
  create(current: V): Promise<V>;
  /** Puts the new credential in place where it is used (setSecret). */
  set(pending: V, current: V): Promise<void>;
  /** Proves the new credential works (testSecret). */
  test(pending: V): Promise<void>;
  /** Throws away a pending credential that will never become current (failed test, lost race). */
  discard(pending: V, current: V): Promise<void>;
}

/** What Secrets Manager says about a secret: its ARN and name, its rotator tag, its AWSCURRENT version. */
export interface SecretDescription {
  arn: string;
  name: string;
  rotator?: RotatorKind;
  currentVersion?: string;
}

/** The secrets closeloop manages, as Secrets Manager describes them (connectors/aws). */
export interface SecretCatalogue {
  describe(secretId: string): Promise<SecretDescription>;
}

/** Starts the rotation machine in `retire` mode; idempotent by `name` (a second start does nothing). */
export interface RetirementLauncher {
  retire(state: RotationState, name: string): Promise<void>;
}
