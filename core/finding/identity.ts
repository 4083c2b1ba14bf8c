import { createHash, hash as oneShotHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigurationError, InputError } from '../shared/errors';

/** The stable finding id derived from its fingerprint. */
export function findingIdFor(fingerprint: string): string {
  return `NHI-${createHash('sha256').update(fingerprint).digest('hex').slice(0, 16).toUpperCase()}`;
}

/** A finding id as `findingIdFor` makes it and the store keeps it: `NHI-` and 16 upper-case hex digits. */
export const FindingIdSchema = z.string().regex(/^NHI-[0-9A-F]{16}$/, 'must look like NHI-0123456789ABCDEF');

/**
 * A finding id as a person types it (any case), in its stored form; otherwise an `InputError`
 * naming the field and showing the start of what was given.
 */
export function parseFindingId(text: string, field = 'finding id'): string {
  const id = text.toUpperCase();
  if (!FindingIdSchema.safeParse(id).success)
    throw new InputError(`${field} must look like NHI-0123456789ABCDEF, got ${JSON.stringify(text.slice(0, 40))}`);
  return id;
}

/** SHA-256 hex of the given parts joined unambiguously (`<length>:<part>|` each). */
export function sha256Of(...parts: string[]): string {
  // One string and a one-shot hash: the same digest as updating part by part, without a Hash
  // object per call (parsers fingerprint every record without a secret this way).
  let joined = '';
  for (const part of parts) joined += `${part.length}:${part}|`;
  return oneShotHash('sha256', joined, 'hex');
}

/**
 * Reduces a secret to what may be stored: its HMAC under the deployment key and a short
 * preview. Whitespace is removed first: a PEM block or a wrapped line is the same credential
 * however it is broken across lines (gitleaks reports one key both ways).
 */
export class SecretHasher {
  // HMAC (RFC 2104) as two one-shot SHA-256 hashes over pre-computed key pads: the same
  // output as createHmac('sha256', key), without a Hmac object per secret (ingest hashes
  // every record, so this is on the hot path). The pads live at the front of two reused
  // buffers; the inner digest travels as a 'binary' (latin1) string because asking crypto.hash for a
  // Buffer costs more than the hash itself. Synchronous, so the reuse is safe.
  private innerBlock: Buffer;
  private readonly outerBlock: Buffer;
  private readonly innerPad: Buffer;
  // views[n] is innerBlock's first 64 + n bytes: a Buffer view costs as much to make as a hash of a
  // short secret, and secrets come in a handful of lengths.
  private views: Buffer[] = [];

  constructor(deploymentKey: Buffer) {
    if (deploymentKey.length < 32) throw new ConfigurationError('deployment key must be at least 32 bytes');
    const block = Buffer.alloc(64);
    (deploymentKey.length > 64 ? createHash('sha256').update(deploymentKey).digest() : deploymentKey).copy(block);
    this.innerPad = Buffer.from(block.map((b) => b ^ 0x36));
    this.innerBlock = Buffer.alloc(64 + 1024);
    this.innerPad.copy(this.innerBlock);
    this.outerBlock = Buffer.alloc(64 + 32);
    Buffer.from(block.map((b) => b ^ 0x5c)).copy(this.outerBlock);
  }

  /** HMAC-SHA256(deploymentKey, normalised secret), hex. */
  hash(secret: string): string {
    const message = normaliseSecret(secret);
    const room = 64 + message.length * 3;
    if (this.innerBlock.length < room) {
      this.innerBlock = Buffer.alloc(room);
      this.innerPad.copy(this.innerBlock);
      this.views = [];
    }
    const length = this.innerBlock.write(message, 64, 'utf8');
    const view =
      length <= MAX_VIEWED
        ? (this.views[length] ??= this.innerBlock.subarray(0, 64 + length))
        : this.innerBlock.subarray(0, 64 + length);
    const inner = oneShotHash('sha256', view, 'binary');
    // The reused buffer must not keep the last secret for the life of the process. (Uint8Array's
    // fill: Buffer's own checks its arguments in JavaScript first.)
    fillBytes.call(this.innerBlock, 0, 64, 64 + length);
    this.outerBlock.write(inner, 64, 'binary');
    return oneShotHash('sha256', this.outerBlock, 'hex');
  }
}

/** Secrets up to this many bytes get a kept view of the block (longer ones are rare: PEM blocks). */
const MAX_VIEWED = 1024;
const fillBytes = Uint8Array.prototype.fill;

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
