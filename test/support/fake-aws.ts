import { randomBytes, randomUUID } from 'node:crypto';
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  DetachUserPolicyCommand,
  GetAccessKeyLastUsedCommand,
  IAMClient,
  LimitExceededException,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListRoleTagsCommand,
  ListUserTagsCommand,
  ListUsersCommand,
  NoSuchEntityException,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { RotationEvent } from '@connectors/rotation/protocol';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const meta = { $metadata: {} };

/** Fault injection: the next call of `command` throws `error` (once per entry). */
type Faults = Map<string, Error[]>;
function takeFault(faults: Faults, command: string): void {
  const queue = faults.get(command);
  const next = queue?.shift();
  if (next) throw next;
}

interface FakeVersion {
  id: string;
  value?: string;
  stages: Set<string>;
  created: Date;
}
interface FakeSecret {
  arn: string;
  name: string;
  rotationEnabled: boolean;
  tags: Map<string, string>;
  versions: Map<string, FakeVersion>;
  created: Date;
  lastRotated?: Date;
}

/**
 * A stateful Secrets Manager on aws-sdk-client-mock: secrets with versions and staging labels
 * moved the way Secrets Manager moves them (AWSCURRENT → AWSPREVIOUS on finish), RotateSecret
 * creating the AWSPENDING version and invoking the rotation Lambda's four steps, and the
 * "previous rotation isn't complete" refusal.
 */
export class FakeSecretsManager {
  readonly secrets = new Map<string, FakeSecret>();
  readonly faults: Faults = new Map();
  /** Errors the rotation Lambda raised, by secret and step. */
  readonly rotationFailures: Array<{ secret: string; step: string; message: string }> = [];
  /** The rotation Lambda RotateSecret invokes; it runs to the end before RotateSecret returns. */
  rotationLambda?: (event: RotationEvent) => Promise<void>;
  now: () => Date = () => new Date();
  readonly stub = mockClient(SecretsManagerClient);

  constructor() {
    const s = this.stub;
    s.on(DescribeSecretCommand).callsFake((i) => this.describe(i.SecretId));
    s.on(GetSecretValueCommand).callsFake((i) => this.getValue(i));
    s.on(PutSecretValueCommand).callsFake((i) => this.putValue(i));
    s.on(UpdateSecretVersionStageCommand).callsFake((i) => this.updateStage(i));
    s.on(RotateSecretCommand).callsFake((i) => this.rotate(i));
    s.on(ListSecretsCommand).callsFake((i) => this.list(i));
    s.on(CreateSecretCommand).callsFake((i) => this.create(i));
    s.on(TagResourceCommand).callsFake((i: { SecretId: string; Tags: Array<{ Key: string; Value: string }> }) => {
      const secret = this.find(i.SecretId);
      for (const t of i.Tags) secret.tags.set(t.Key, t.Value);
      return {};
    });
    s.on(UntagResourceCommand).callsFake((i: { SecretId: string; TagKeys: string[] }) => {
      const secret = this.find(i.SecretId);
      for (const k of i.TagKeys) secret.tags.delete(k);
      return {};
    });
    s.on(GetRandomPasswordCommand).callsFake((i: { PasswordLength?: number }) => ({
      RandomPassword: randomBytes(64)
        .toString('base64url')
        .replace(/[-_]/g, 'x')
        .slice(0, i.PasswordLength ?? 32),
    }));
  }

  restore(): void {
    this.stub.restore();
  }

  addSecret(input: {
    name: string;
    value: string;
    rotator?: string;
    rotationEnabled?: boolean;
    tags?: Record<string, string>;
  }): string {
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${input.name}-${randomBytes(3).toString('hex')}`;
    const version: FakeVersion = {
      id: randomUUID(),
      value: input.value,
      stages: new Set(['AWSCURRENT']),
      created: this.now(),
    };
    const tags = new Map(Object.entries(input.tags ?? {}));
    if (input.rotator) tags.set('closeloop:rotator', input.rotator);
    this.secrets.set(arn, {
      arn,
      name: input.name,
      rotationEnabled: input.rotationEnabled ?? true,
      tags,
      versions: new Map([[version.id, version]]),
      created: this.now(),
    });
    return arn;
  }

  /** The stages of every version: what a test asserts about AWSCURRENT / AWSPENDING. */
  stages(secretId: string): Record<string, string[]> {
    return Object.fromEntries([...this.find(secretId).versions.values()].map((v) => [v.id, [...v.stages].sort()]));
  }

  valueAt(secretId: string, stage: string): string | undefined {
    return [...this.find(secretId).versions.values()].find((v) => v.stages.has(stage))?.value;
  }

  find(secretId: string): FakeSecret {
    const secret = this.secrets.get(secretId) ?? [...this.secrets.values()].find((s) => s.name === secretId);
    if (!secret)
      throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", ...meta });
    return secret;
  }

  private describe(secretId: string) {
    takeFault(this.faults, 'DescribeSecret');
    const s = this.find(secretId);
    return {
      ARN: s.arn,
      Name: s.name,
      RotationEnabled: s.rotationEnabled,
      VersionIdsToStages: Object.fromEntries(
        [...s.versions.values()].filter((v) => v.stages.size > 0).map((v) => [v.id, [...v.stages]]),
      ),
      Tags: [...s.tags].map(([Key, Value]) => ({ Key, Value })),
      CreatedDate: s.created,
      ...(s.lastRotated ? { LastRotatedDate: s.lastRotated } : {}),
    };
  }

  private getValue(i: { SecretId: string; VersionId?: string; VersionStage?: string }) {
    takeFault(this.faults, 'GetSecretValue');
    const s = this.find(i.SecretId);
    const stage = i.VersionStage ?? (i.VersionId ? undefined : 'AWSCURRENT');
    const version = i.VersionId
      ? s.versions.get(i.VersionId)
      : [...s.versions.values()].find((v) => v.stages.has(stage!));
    if (!version || (stage && !version.stages.has(stage)) || version.value === undefined) {
      throw new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret value for staging label or version.",
        ...meta,
      });
    }
    return {
      ARN: s.arn,
      Name: s.name,
      VersionId: version.id,
      SecretString: version.value,
      VersionStages: [...version.stages],
    };
  }

  private putValue(i: {
    SecretId: string;
    ClientRequestToken: string;
    SecretString: string;
    VersionStages?: string[];
  }) {
    takeFault(this.faults, 'PutSecretValue');
    const s = this.find(i.SecretId);
    const existing = s.versions.get(i.ClientRequestToken);
    if (existing?.value !== undefined) {
      if (existing.value === i.SecretString) return { ARN: s.arn, VersionId: existing.id };
      throw new ResourceExistsException({
        message: "You can't modify an existing version, you can only create a new version.",
        ...meta,
      });
    }
    const version = existing ?? { id: i.ClientRequestToken, stages: new Set<string>(), created: this.now() };
    version.value = i.SecretString;
    for (const stage of i.VersionStages ?? ['AWSCURRENT']) this.moveStage(s, stage, version);
    s.versions.set(version.id, version);
    return { ARN: s.arn, VersionId: version.id, VersionStages: [...version.stages] };
  }

  private moveStage(s: FakeSecret, stage: string, to: FakeVersion) {
    for (const v of s.versions.values()) {
      if (v !== to && v.stages.delete(stage) && stage === 'AWSCURRENT') {
        for (const w of s.versions.values()) w.stages.delete('AWSPREVIOUS');
        v.stages.add('AWSPREVIOUS');
      }
    }
    to.stages.add(stage);
  }

  private updateStage(i: {
    SecretId: string;
    VersionStage: string;
    MoveToVersionId?: string;
    RemoveFromVersionId?: string;
  }) {
    takeFault(this.faults, 'UpdateSecretVersionStage');
    const s = this.find(i.SecretId);
    const holder = [...s.versions.values()].find((v) => v.stages.has(i.VersionStage));
    if (i.RemoveFromVersionId && holder?.id !== i.RemoveFromVersionId) {
      throw new InvalidParameterException({
        message: `The staging label ${i.VersionStage} is not attached to version ${i.RemoveFromVersionId}.`,
        ...meta,
      });
    }
    if (i.MoveToVersionId) {
      const to = s.versions.get(i.MoveToVersionId);
      if (!to) throw new ResourceNotFoundException({ message: 'No such version.', ...meta });
      if (holder && !i.RemoveFromVersionId && holder !== to)
        throw new InvalidParameterException({
          message: `The staging label ${i.VersionStage} is currently attached to version ${holder.id}; specify RemoveFromVersionId.`,
          ...meta,
        });
      this.moveStage(s, i.VersionStage, to);
      if (i.VersionStage === 'AWSCURRENT') s.lastRotated = this.now();
    } else if (holder) {
      holder.stages.delete(i.VersionStage);
    }
    return { ARN: s.arn, Name: s.name };
  }

  private async rotate(i: { SecretId: string; ClientRequestToken?: string }) {
    takeFault(this.faults, 'RotateSecret');
    const s = this.find(i.SecretId);
    if (!this.rotationLambda)
      throw new InvalidRequestException({
        message: 'No Lambda rotation function ARN is associated with this secret.',
        ...meta,
      });
    const token = i.ClientRequestToken ?? randomUUID();
    if (s.versions.has(token)) return { ARN: s.arn, Name: s.name, VersionId: token };
    const pending = [...s.versions.values()].find((v) => v.stages.has('AWSPENDING') && !v.stages.has('AWSCURRENT'));
    if (pending)
      throw new InvalidRequestException({
        message: "A previous rotation isn't complete. That rotation will be reattempted.",
        ...meta,
      });
    s.rotationEnabled = true;
    s.versions.set(token, { id: token, stages: new Set(['AWSPENDING']), created: this.now() });
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      try {
        await this.rotationLambda({ SecretId: s.arn, ClientRequestToken: token, Step: step });
      } catch (err) {
        this.rotationFailures.push({ secret: s.name, step, message: (err as Error).message });
        break;
      }
    }
    return { ARN: s.arn, Name: s.name, VersionId: token };
  }

  private list(i: { Filters?: Array<{ Key: string; Values: string[] }> }) {
    takeFault(this.faults, 'ListSecrets');
    const tagKeys = (i.Filters ?? []).filter((f) => f.Key === 'tag-key').flatMap((f) => f.Values);
    const matching = [...this.secrets.values()].filter((s) => tagKeys.every((k) => s.tags.has(k)));
    return {
      SecretList: matching.map((s) => ({
        ARN: s.arn,
        Name: s.name,
        RotationEnabled: s.rotationEnabled,
        Tags: [...s.tags].map(([Key, Value]) => ({ Key, Value })),
        CreatedDate: s.created,
        ...(s.lastRotated ? { LastRotatedDate: s.lastRotated } : {}),
      })),
    };
  }

  private create(i: {
    Name: string;
    SecretString: string;
    ClientRequestToken?: string;
    Tags?: Array<{ Key: string; Value: string }>;
  }) {
    takeFault(this.faults, 'CreateSecret');
    if ([...this.secrets.values()].some((s) => s.name === i.Name))
      throw new ResourceExistsException({
        message: `The operation failed because the secret ${i.Name} already exists.`,
        ...meta,
      });
    const arn = this.addSecret({
      name: i.Name,
      value: i.SecretString,
      rotationEnabled: false,
      tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key, t.Value])),
    });
    return { ARN: arn, Name: i.Name };
  }
}

interface FakeKey {
  AccessKeyId: string;
  SecretAccessKey: string;
  Status: 'Active' | 'Inactive';
  CreateDate: Date;
  lastUsed?: Date;
}

/** A stateful IAM: users and their access keys, with the two-keys-per-user limit. */
export class FakeIam {
  readonly users = new Map<string, FakeKey[]>();
  /** Tags of users and roles, by name. */
  readonly userTags = new Map<string, Record<string, string>>();
  readonly roleTags = new Map<string, Record<string, string>>();
  /** Managed policies attached to each user, by ARN. */
  readonly attachedPolicies = new Map<string, Set<string>>();
  /** Every change of a key's status or of a user's policies, in order, with the time it happened. */
  readonly changes: Array<{ at: Date; change: string }> = [];
  readonly faults: Faults = new Map();
  now: () => Date = () => new Date();
  readonly stub = mockClient(IAMClient);

  constructor() {
    const s = this.stub;
    const tagList = (tags: Record<string, string> | undefined, kind: string, name: string) => {
      if (!tags)
        throw new NoSuchEntityException({ message: `The ${kind} with name ${name} cannot be found.`, ...meta });
      return { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) };
    };
    s.on(ListUserTagsCommand).callsFake((i: { UserName: string }) =>
      tagList(this.userTags.get(i.UserName) ?? (this.users.has(i.UserName) ? {} : undefined), 'user', i.UserName),
    );
    s.on(ListRoleTagsCommand).callsFake((i: { RoleName: string }) =>
      tagList(this.roleTags.get(i.RoleName), 'role', i.RoleName),
    );
    s.on(ListUsersCommand).callsFake(() => ({
      Users: [...this.users.keys()].map((UserName) => ({
        UserName,
        Arn: this.arnOf(UserName),
        UserId: UserName.toUpperCase(),
        Path: '/',
        CreateDate: new Date(0),
      })),
    }));
    s.on(ListAccessKeysCommand).callsFake((i: { UserName: string }) => {
      takeFault(this.faults, 'ListAccessKeys');
      return {
        AccessKeyMetadata: this.keysOf(i.UserName).map((k) => ({
          UserName: i.UserName,
          AccessKeyId: k.AccessKeyId,
          Status: k.Status,
          CreateDate: k.CreateDate,
        })),
      };
    });
    s.on(CreateAccessKeyCommand).callsFake((i: { UserName: string }) => {
      takeFault(this.faults, 'CreateAccessKey');
      const keys = this.keysOf(i.UserName);
      if (keys.length >= 2)
        throw new LimitExceededException({ message: 'Cannot exceed quota for AccessKeysPerUser: 2', ...meta });
      const key = this.newKey();
      keys.push(key);
      return {
        AccessKey: {
          UserName: i.UserName,
          AccessKeyId: key.AccessKeyId,
          SecretAccessKey: key.SecretAccessKey,
          Status: 'Active',
          CreateDate: key.CreateDate,
        },
      };
    });
    s.on(UpdateAccessKeyCommand).callsFake(
      (i: { UserName: string; AccessKeyId: string; Status: 'Active' | 'Inactive' }) => {
        takeFault(this.faults, 'UpdateAccessKey');
        this.key(i.UserName, i.AccessKeyId).Status = i.Status;
        this.changes.push({ at: new Date(), change: `${i.UserName} key ${i.AccessKeyId} ${i.Status}` });
        return {};
      },
    );
    const policies = (userName: string) => {
      this.keysOf(userName);
      const attached = this.attachedPolicies.get(userName) ?? new Set<string>();
      this.attachedPolicies.set(userName, attached);
      return attached;
    };
    s.on(AttachUserPolicyCommand).callsFake((i: { UserName: string; PolicyArn: string }) => {
      takeFault(this.faults, 'AttachUserPolicy');
      policies(i.UserName).add(i.PolicyArn);
      this.changes.push({ at: new Date(), change: `${i.UserName} attached ${i.PolicyArn}` });
      return {};
    });
    s.on(DetachUserPolicyCommand).callsFake((i: { UserName: string; PolicyArn: string }) => {
      if (!policies(i.UserName).delete(i.PolicyArn))
        throw new NoSuchEntityException({ message: `Policy ${i.PolicyArn} was not found.`, ...meta });
      this.changes.push({ at: new Date(), change: `${i.UserName} detached ${i.PolicyArn}` });
      return {};
    });
    s.on(ListAttachedUserPoliciesCommand).callsFake((i: { UserName: string }) => ({
      AttachedPolicies: [...policies(i.UserName)].map((PolicyArn) => ({
        PolicyArn,
        PolicyName: PolicyArn.split('/').pop(),
      })),
    }));
    s.on(DeleteAccessKeyCommand).callsFake((i: { UserName: string; AccessKeyId: string }) => {
      takeFault(this.faults, 'DeleteAccessKey');
      this.key(i.UserName, i.AccessKeyId);
      this.users.set(
        i.UserName,
        this.keysOf(i.UserName).filter((k) => k.AccessKeyId !== i.AccessKeyId),
      );
      return {};
    });
    s.on(GetAccessKeyLastUsedCommand).callsFake((i: { AccessKeyId: string }) => {
      for (const [UserName, keys] of this.users) {
        const k = keys.find((x) => x.AccessKeyId === i.AccessKeyId);
        if (k)
          return {
            UserName,
            AccessKeyLastUsed: k.lastUsed
              ? { LastUsedDate: k.lastUsed, ServiceName: 's3', Region: REGION }
              : { ServiceName: 'N/A', Region: 'N/A' },
          };
      }
      throw new NoSuchEntityException({ message: 'The Access Key with id was not found.', ...meta });
    });
  }

  restore(): void {
    this.stub.restore();
  }

  arnOf(userName: string): string {
    return `arn:aws:iam::${ACCOUNT}:user/${userName}`;
  }

  /** A user with one active key (used a day ago); returns that key. */
  addUser(userName: string, options: { lastUsed?: Date | null } = {}): FakeKey {
    const key = this.newKey();
    if (options.lastUsed !== null) key.lastUsed = options.lastUsed ?? new Date(this.now().getTime() - 24 * 3600 * 1000);
    this.users.set(userName, [key]);
    return key;
  }

  keysOf(userName: string): FakeKey[] {
    const keys = this.users.get(userName);
    if (!keys) throw new NoSuchEntityException({ message: `The user with name ${userName} cannot be found.`, ...meta });
    return keys;
  }

  private key(userName: string, id: string): FakeKey {
    const key = this.keysOf(userName).find((k) => k.AccessKeyId === id);
    if (!key) throw new NoSuchEntityException({ message: 'The Access Key with id was not found.', ...meta });
    return key;
  }

  private newKey(): FakeKey {
    const id = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
    return {
      AccessKeyId: id,
      SecretAccessKey: randomBytes(30).toString('base64').slice(0, 40),
      Status: 'Active',
      CreateDate: this.now(),
    };
  }
}

/** STS GetCallerIdentity answered from FakeIam: only an existing, active key signs. */
export class FakeSts {
  readonly stub = mockClient(STSClient);
  /** When set, no key authenticates (an outage, or a key IAM has not propagated). */
  rejectAll = false;

  constructor(iam: FakeIam) {
    this.stub.on(GetCallerIdentityCommand).callsFake(async (_input: unknown, getClient: () => STSClient) => {
      const credentials = await (
        getClient().config.credentials as () => Promise<{ accessKeyId: string; secretAccessKey: string }>
      )();
      for (const [userName, keys] of iam.users) {
        const key = keys.find((k) => k.AccessKeyId === credentials.accessKeyId);
        if (key && key.SecretAccessKey === credentials.secretAccessKey && key.Status === 'Active' && !this.rejectAll) {
          return { Account: ACCOUNT, Arn: iam.arnOf(userName), UserId: userName.toUpperCase() };
        }
      }
      throw new STSServiceException({
        name: 'InvalidClientTokenId',
        $fault: 'client',
        message: 'The security token included in the request is invalid.',
        ...meta,
      });
    });
  }

  restore(): void {
    this.stub.restore();
  }
}
