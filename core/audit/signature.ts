import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { ConfigurationError } from '../shared/errors';
import type { DigestVerifyKey, SignatureAlgorithm } from './ports';

/** SHA-256 of a public key's DER SubjectPublicKeyInfo: what a key id of a local key names. */
export const publicKeyFingerprint = (key: KeyObject) =>
  createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');

/**
 * A digest verifier from a public key the verifier trusts: a KMS key's (GetPublicKey, DER
 * SubjectPublicKeyInfo), a pinned PEM file, or the local key's. ECDSA signatures are DER over
 * the SHA-256 of the message, as KMS makes them for a raw message (ECDSA_SHA_256).
 */
export function publicKeyVerifier(
  algorithm: SignatureAlgorithm,
  keyId: string,
  publicKey: KeyObject | Buffer | string,
): DigestVerifyKey {
  const key =
    typeof publicKey === 'string'
      ? createPublicKey(publicKey)
      : Buffer.isBuffer(publicKey)
        ? createPublicKey({ key: publicKey, format: 'der', type: 'spki' })
        : publicKey;
  const expected = algorithm === 'ED25519' ? 'ed25519' : 'ec';
  if (key.asymmetricKeyType !== expected)
    throw new ConfigurationError(`the digest key ${keyId} is a ${key.asymmetricKeyType} key, not ${algorithm}`);
  if (algorithm === 'ECDSA_SHA_256' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new ConfigurationError(`the digest key ${keyId} is not on the P-256 curve (KMS ECC_NIST_P256)`);
  return {
    algorithm,
    keyId,
    verify: (message, signature) =>
      algorithm === 'ED25519'
        ? verify(null, message, key, signature)
        : verify('sha256', message, { key, dsaEncoding: 'der' }, signature),
  };
}
