import { hkdfSync } from 'node:crypto';

/**
 * A key for one purpose, derived from a master key with HKDF-SHA256. It can neither be turned
 * back into the master key nor collide with the master key's own HMACs (secret hashes), so a
 * local hub can sign, e.g., report cursors without a second key file.
 */
export function deriveKey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.from('closeloop'), Buffer.from(purpose), 32));
}
