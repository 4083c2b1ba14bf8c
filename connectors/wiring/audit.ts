import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import type { DigestArchive, DigestVerifyKey } from '@core/audit/ports';
import { publicKeyFingerprint, publicKeyVerifier } from '@core/audit/signature';
import { ConfigurationError } from '@core/shared/errors';
import { kmsDigestVerifyKey, s3DigestArchive } from '../aws/audit-digests';
import type { HubConfig } from '../config';

/**
 * A public key pinned by the verifier (`--public-key FILE`, PEM): an Ed25519 key (a local trail),
 * or the deployed KMS key's P-256 key as `aws kms get-public-key` gave it, under its ARN.
 */
export function pinnedVerifyKey(file: string, keyArn: string | undefined): DigestVerifyKey {
  let key;
  try {
    key = createPublicKey(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigurationError(`--public-key ${file}: not a PEM public key`, { cause: err });
  }
  if (key.asymmetricKeyType === 'ed25519')
    return publicKeyVerifier('ED25519', `local-ed25519:${publicKeyFingerprint(key).slice(0, 32)}`, key);
  if (!keyArn)
    throw new ConfigurationError('--public-key of a KMS key needs CLOSELOOP_DIGEST_KEY (the key ARN the digests name)');
  return publicKeyVerifier('ECDSA_SHA_256', keyArn, key);
}

/**
 * The deployed trail's digests, for `closeloop audit verify` run by an auditor with AWS
 * credentials: the Object Lock bucket (CLOSELOOP_DIGEST_BUCKET, read-only) and the digest key's
 * public half, from KMS (CLOSELOOP_DIGEST_KEY, `kms:GetPublicKey`) or pinned (`--public-key`).
 */
export async function deployedDigests(
  config: HubConfig,
  publicKeyFile: string | undefined,
): Promise<{ archive: DigestArchive; key: DigestVerifyKey }> {
  const archive = s3DigestArchive(new S3Client({}), config.require('CLOSELOOP_DIGEST_BUCKET'));
  if (publicKeyFile) return { archive, key: pinnedVerifyKey(publicKeyFile, config.settings.CLOSELOOP_DIGEST_KEY) };
  const kms = new KMSClient({});
  try {
    return { archive, key: await kmsDigestVerifyKey(kms, config.require('CLOSELOOP_DIGEST_KEY')) };
  } finally {
    kms.destroy();
  }
}
