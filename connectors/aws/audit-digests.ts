import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { DigestArchive, DigestSigner, DigestVerifyKey } from '@core/audit/ports';
import { publicKeyVerifier } from '@core/audit/signature';
import { ConfigurationError } from '@core/shared/errors';

/**
 * Digests in the stack's Object Lock bucket (compliance mode: no version can be deleted or
 * overwritten before its retention ends). `If-None-Match: *` makes each put create the key or
 * fail, so two writers never both write one sequence number, and a digest never gets a second
 * version; the SHA-256 checksum is what S3 requires of writes to a locked bucket.
 */
export function s3DigestArchive(s3: S3Client, bucket: string): DigestArchive {
  return {
    location: `s3://${bucket}/`,
    async putNew(key, body) {
      try {
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: 'application/json',
            ChecksumAlgorithm: 'SHA256',
            IfNoneMatch: '*',
          }),
        );
        return true;
      } catch (err) {
        // 412: the key exists; 409: another conditional write to it is in flight.
        const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
        if (status === 412 || status === 409) return false;
        throw err;
      }
    },
    async get(key) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await out.Body!.transformToByteArray());
      } catch (err) {
        if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
    async firstKey(prefix) {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
      return out.Contents?.[0]?.Key;
    },
  };
}

/**
 * Signs with the stack's asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY), which only the digest
 * writer's role may use. The message is the digest's short string to sign (core/audit/digest.ts),
 * which KMS hashes with SHA-256; the signature is DER ECDSA, checkable with the public key alone.
 */
export function kmsDigestSigner(kms: KMSClient, keyArn: string): DigestSigner {
  return {
    algorithm: 'ECDSA_SHA_256',
    keyId: keyArn,
    async sign(message) {
      const out = await kms.send(
        new SignCommand({
          KeyId: keyArn,
          Message: message,
          MessageType: 'RAW',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
      if (!out.Signature) throw new ConfigurationError(`KMS returned no signature for ${keyArn}`);
      return Buffer.from(out.Signature);
    },
  };
}

/**
 * The public key of the digest key, fetched from KMS (`kms:GetPublicKey`); verification itself
 * happens here, offline. Refuses a key that is not an ECC_NIST_P256 signing key.
 */
export async function kmsDigestVerifyKey(kms: KMSClient, keyId: string): Promise<DigestVerifyKey> {
  const out = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (out.KeyUsage !== 'SIGN_VERIFY' || out.KeySpec !== 'ECC_NIST_P256' || !out.PublicKey)
    throw new ConfigurationError(
      `${keyId} is not the digest key: an ECC_NIST_P256 SIGN_VERIFY key is expected, got ${out.KeySpec ?? '?'} ${out.KeyUsage ?? '?'}`,
    );
  return publicKeyVerifier('ECDSA_SHA_256', out.KeyId ?? keyId, Buffer.from(out.PublicKey));
}
