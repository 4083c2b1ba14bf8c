import { createHash, createHmac } from 'node:crypto';

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
  constructor(private readonly deploymentKey: Buffer) {
    if (deploymentKey.length < 32) throw new Error('deployment key must be at least 32 bytes');
  }

  /** HMAC-SHA256(deploymentKey, normalised secret), hex. */
  hash(secret: string): string {
    return createHmac('sha256', this.deploymentKey).update(normaliseSecret(secret)).digest('hex');
  }
}

function normaliseSecret(secret: string): string {
  return secret.replace(/\s+/g, '');
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
