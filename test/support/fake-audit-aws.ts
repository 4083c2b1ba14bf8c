import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import {
  GetPublicKeyCommand,
  InvalidKeyUsageException,
  KMSClient,
  NotFoundException,
  SignCommand,
  type SignCommandInput,
} from '@aws-sdk/client-kms';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type DeleteObjectCommandInput,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';

const meta = { $metadata: {} };
const s3Error = (name: string, status: number, message: string) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });

interface FakeKey {
  arn: string;
  spec: 'ECC_NIST_P256' | 'SYMMETRIC_DEFAULT';
  usage: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
  privateKey?: KeyObject;
  publicKey?: KeyObject;
}

/**
 * A stateful KMS for asymmetric signing on aws-sdk-client-mock: keys with a spec and a usage,
 * `Sign` refusing an unknown key, a key of another usage, another algorithm or a raw message over
 * 4096 bytes, and signing as KMS does (ECDSA over the SHA-256 of the message, DER);
 * `GetPublicKey` giving the DER SubjectPublicKeyInfo. `MessageType: DIGEST` is not modelled.
 */
export class FakeKms {
  readonly stub = mockClient(KMSClient);
  readonly keys = new Map<string, FakeKey>();
  /** Every message signed, by key. */
  readonly signed: Array<{ keyId: string; message: Buffer }> = [];

  constructor(readonly region = 'eu-west-1') {
    this.stub.on(SignCommand).callsFake((input: SignCommandInput) => this.sign(input));
    this.stub.on(GetPublicKeyCommand).callsFake((input: { KeyId: string }) => {
      const key = this.key(input.KeyId);
      if (key.usage !== 'SIGN_VERIFY') return { ...meta, KeyId: key.arn, KeySpec: key.spec, KeyUsage: key.usage };
      return {
        ...meta,
        KeyId: key.arn,
        KeySpec: key.spec,
        KeyUsage: key.usage,
        SigningAlgorithms: ['ECDSA_SHA_256'],
        PublicKey: new Uint8Array(key.publicKey!.export({ type: 'spki', format: 'der' })),
      };
    });
  }

  /** A new key; returns its ARN. */
  createKey(spec: FakeKey['spec'] = 'ECC_NIST_P256'): string {
    const arn = `arn:aws:kms:${this.region}:123456789012:key/${randomUUID()}`;
    if (spec === 'ECC_NIST_P256') {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      this.keys.set(arn, { arn, spec, usage: 'SIGN_VERIFY', privateKey, publicKey });
    } else this.keys.set(arn, { arn, spec, usage: 'ENCRYPT_DECRYPT' });
    return arn;
  }

  private key(id: string): FakeKey {
    const key = this.keys.get(id);
    if (!key) throw new NotFoundException({ message: `Key '${id}' does not exist`, $metadata: {} });
    return key;
  }

  private sign(input: SignCommandInput) {
    const key = this.key(input.KeyId!);
    if (key.usage !== 'SIGN_VERIFY' || input.SigningAlgorithm !== 'ECDSA_SHA_256')
      throw new InvalidKeyUsageException({
        message: `${input.SigningAlgorithm} is not valid for ${key.arn} (${key.spec} ${key.usage})`,
        $metadata: {},
      });
    const message = Buffer.from(input.Message as Uint8Array);
    if ((input.MessageType ?? 'RAW') !== 'RAW')
      throw new Error(`FakeKms: MessageType ${input.MessageType} is not modelled`);
    if (message.length > 4096) throw new Error('ValidationException: a RAW message is at most 4096 bytes');
    this.signed.push({ keyId: key.arn, message });
    const signature = sign('sha256', message, { key: key.privateKey!, dsaEncoding: 'der' });
    return { ...meta, KeyId: key.arn, Signature: new Uint8Array(signature), SigningAlgorithm: 'ECDSA_SHA_256' };
  }
}

interface FakeVersion {
  versionId: string;
  body?: Buffer;
  deleteMarker: boolean;
  retainUntil?: Date;
}

/**
 * A stateful S3 bucket with versioning and Object Lock in compliance mode (a default retention)
 * on aws-sdk-client-mock, as S3 behaves: every put adds a version (`If-None-Match: *` refuses one
 * when the key exists: 412), a put without a checksum or Content-MD5 is refused (required with
 * Object Lock), a delete without a version id adds a delete marker (the key then lists and reads
 * as gone; only a bucket policy stops that), and deleting a version still under retention is
 * refused (403), whoever asks.
 */
export class FakeObjectLockBucket {
  readonly stub = mockClient(S3Client);
  readonly objects = new Map<string, FakeVersion[]>();
  now: () => Date = () => new Date();

  constructor(
    readonly bucket: string,
    readonly retentionDays: number,
  ) {
    this.stub.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => this.put(input));
    this.stub.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string; VersionId?: string }) => {
      this.checkBucket(input.Bucket);
      const versions = this.objects.get(input.Key) ?? [];
      const version = input.VersionId ? versions.find((v) => v.versionId === input.VersionId) : versions.at(-1);
      if (!version || version.deleteMarker)
        throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
      return {
        ...meta,
        VersionId: version.versionId,
        Body: sdkStreamMixin(Readable.from([version.body!])),
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: version.retainUntil,
      };
    });
    this.stub.on(DeleteObjectCommand).callsFake((input: DeleteObjectCommandInput) => this.delete(input));
    this.stub.on(ListObjectsV2Command).callsFake((input: { Bucket: string; Prefix?: string; MaxKeys?: number }) => {
      this.checkBucket(input.Bucket);
      const keys = [...this.objects.entries()]
        .filter(([key, versions]) => key.startsWith(input.Prefix ?? '') && !versions.at(-1)!.deleteMarker)
        .map(([key]) => key)
        .sort();
      const page = keys.slice(0, input.MaxKeys ?? 1000);
      return {
        ...meta,
        Contents: page.map((Key) => ({ Key })),
        KeyCount: page.length,
        IsTruncated: keys.length > page.length,
      };
    });
  }

  /** The current bytes of `key`, if any. */
  current(key: string): Buffer | undefined {
    const version = this.objects.get(key)?.at(-1);
    return version && !version.deleteMarker ? version.body : undefined;
  }

  private checkBucket(bucket: string | undefined) {
    if (bucket !== this.bucket) throw s3Error('NoSuchBucket', 404, `The specified bucket does not exist: ${bucket}`);
  }

  private put(input: PutObjectCommandInput) {
    this.checkBucket(input.Bucket);
    if (!input.ChecksumAlgorithm && !input.ContentMD5)
      throw s3Error(
        'InvalidRequest',
        400,
        'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
      );
    const versions = this.objects.get(input.Key!) ?? [];
    if (input.IfNoneMatch === '*' && versions.length > 0 && !versions.at(-1)!.deleteMarker)
      throw s3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
    const body = Buffer.from(input.Body as Buffer | string);
    const version: FakeVersion = {
      versionId: createHash('sha256').update(randomUUID()).digest('hex').slice(0, 32),
      body,
      deleteMarker: false,
      retainUntil: new Date(this.now().getTime() + this.retentionDays * 86_400_000),
    };
    this.objects.set(input.Key!, [...versions, version]);
    return { ...meta, VersionId: version.versionId };
  }

  private delete(input: DeleteObjectCommandInput) {
    this.checkBucket(input.Bucket);
    const versions = this.objects.get(input.Key!) ?? [];
    if (!input.VersionId) {
      const marker: FakeVersion = { versionId: randomUUID().replace(/-/g, ''), deleteMarker: true };
      this.objects.set(input.Key!, [...versions, marker]);
      return { ...meta, DeleteMarker: true, VersionId: marker.versionId };
    }
    const version = versions.find((v) => v.versionId === input.VersionId);
    if (!version) return { ...meta };
    if (version.retainUntil && version.retainUntil > this.now())
      throw s3Error('AccessDenied', 403, 'Access Denied because object protected by object lock.');
    this.objects.set(
      input.Key!,
      versions.filter((v) => v !== version),
    );
    return { ...meta, VersionId: version.versionId };
  }
}
