import { createHash, hash as oneShotHash } from 'node:crypto';

/** The stable finding id derived from its fingerprint. */
export function findingIdFor(fingerprint: string): string {
  return `NHI-${createHash('sha256').update(fingerprint).digest('hex').slice(0, 16).toUpperCase()}`;
}

/** SHA-256 hex of the given parts joined unambiguously. */
export function sha256Of(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:${part}|`);
  return hash.digest('hex');
}

/**
 * Reduces a secret to what may be stored: its HMAC under the deployment key and a short
 * preview. Whitespace is removed first: a PEM block or a wrapped line is the same credential
 * however it is broken across lines (gitleaks reports one key both ways).
 */
export class SecretHasher {
  // HMAC (RFC 2104) as two one-shot SHA-256 hashes over the pre-computed key pads: the same
  // output as createHmac('sha256', key), without a Hmac object per secret (ingest hashes
  // every record, so this is on the hot path).
  private readonly innerPad: Buffer;
  private readonly outerPad: Buffer;

  constructor(deploymentKey: Buffer) {
    if (deploymentKey.length < 32) throw new Error('deployment key must be at least 32 bytes');
    const block = Buffer.alloc(64);
    (deploymentKey.length > 64 ? createHash('sha256').update(deploymentKey).digest() : deploymentKey).copy(block);
    this.innerPad = Buffer.from(block.map((b) => b ^ 0x36));
    this.outerPad = Buffer.from(block.map((b) => b ^ 0x5c));
  }

  /** HMAC-SHA256(deploymentKey, normalised secret), hex. */
  hash(secret: string): string {
    const message = Buffer.from(normaliseSecret(secret), 'utf8');
    const inner = oneShotHash('sha256', Buffer.concat([this.innerPad, message], 64 + message.length), 'buffer');
    return oneShotHash('sha256', Buffer.concat([this.outerPad, inner], 96), 'hex');
  }
}

const WHITESPACE = /\s/;

function normaliseSecret(secret: string): string {
  return WHITESPACE.test(secret) ? secret.replace(/\s+/g, '') : secret;
}

/**
 * A preview a person can recognise but not use: up to four leading characters and the length.
 * Secrets shorter than 12 characters show no characters at all.
 */
export function previewSecret(secret: string): string {
  const s = normaliseSecret(secret);
  if (s.length < 12) return `****(${s.length})`;
  return `${s.slice(0, 4)}…(${s.length})`;
}
