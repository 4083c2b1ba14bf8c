import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigurationError } from '@core/shared/errors';

/**
 * The local deployment key (HMAC key for secret hashes): generated once under CLOSELOOP_HOME,
 * readable by its owner only. In AWS the key is a Secrets Manager secret instead.
 */
export async function loadOrCreateLocalDeploymentKey(home: string): Promise<Buffer> {
  const path = join(home, 'deployment-key');
  await mkdir(home, { recursive: true });
  try {
    // `wx`: two first runs at once cannot both create a key; the loser reads the winner's.
    await writeFile(path, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const text = (await readFile(path, 'utf8')).trim();
  if (!/^[0-9a-f]{64,}$/.test(text))
    throw new ConfigurationError(
      `${path} is not a deployment key (64+ hex characters expected); restore it from backup`,
    );
  return Buffer.from(text, 'hex');
}
