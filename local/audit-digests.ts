import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DigestArchive, DigestSigner, DigestVerifyKey } from '@core/audit/ports';
import { publicKeyFingerprint, publicKeyVerifier } from '@core/audit/signature';
import { ConfigurationError } from '@core/shared/errors';

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Local digests: files under `$CLOSELOOP_HOME/digests/`, created exclusively (`wx`) and left
 * read-only, so the local writer never replaces one. There is no Object Lock on a laptop: the
 * files protect the trail against whoever can write the table but not the home directory.
 */
export function localDigestArchive(home: string): DigestArchive {
  return {
    location: join(home, 'digests'),
    async putNew(key, body) {
      const path = join(home, key);
      await mkdir(dirname(path), { recursive: true });
      try {
        await writeFile(path, body, { flag: 'wx', mode: 0o444 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      }
      await chmod(path, 0o444);
      return true;
    },
    async get(key) {
      try {
        return await readFile(join(home, key));
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    async firstKey(prefix) {
      let names: string[];
      try {
        names = await readdir(join(home, prefix));
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
      const first = names.filter((n) => n.endsWith('.json')).sort()[0];
      return first ? `${prefix}${first}` : undefined;
    },
  };
}

/**
 * The local digest signing key: an Ed25519 key generated once in
 * `$CLOSELOOP_HOME/audit-signing-key.pem` (mode 0600), the local stand-in for the deployed KMS key.
 */
export async function localDigestKeys(home: string): Promise<{ signer: DigestSigner; verifyKey: DigestVerifyKey }> {
  const path = join(home, 'audit-signing-key.pem');
  await mkdir(home, { recursive: true });
  try {
    const { privateKey } = generateKeyPairSync('ed25519');
    // `wx`: two first runs at once cannot both create a key; the loser reads the winner's.
    await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ConfigurationError(`${path} is not a private key; restore it from backup`, { cause: err });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new ConfigurationError(`${path} is not an Ed25519 key; restore it from backup`);
  const publicKey = createPublicKey(privateKey);
  const keyId = `local-ed25519:${publicKeyFingerprint(publicKey).slice(0, 32)}`;
  return {
    signer: { algorithm: 'ED25519', keyId, sign: async (message) => sign(null, message, privateKey) },
    verifyKey: publicKeyVerifier('ED25519', keyId, publicKey),
  };
}
