import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CloseloopError } from '../shared/errors';
import { canonical } from './chain';
import { CHAIN_KINDS, SIGNATURE_ALGORITHMS, chainKey, type ChainHead, type DigestArchive } from './ports';

/**
 * Digests seal the audit trail the way CloudTrail's digest files seal its logs: every interval the
 * digest writer (its own role, the only one allowed) lists every chain head that changed since the
 * previous digest, chains the new digest to that one by its SHA-256, signs it with a key only it
 * can use, and stores it write-once. A table writer can then still append events, but no longer
 * rewrite, cut or delete what a digest sealed without `audit verify` noticing.
 */

export const DIGEST_VERSION = 1;
/** Every this many digests, one lists every sealed head (a checkpoint); the others only what changed. */
export const CHECKPOINT_EVERY = 24;
export const DIGEST_PREFIX = 'digests/';
const MAX_SEQ = 9_999_999_999;
const pad = (n: number) => String(n).padStart(10, '0');

/**
 * Where digest `seq` is kept. The first part counts down, so the first key in order is the latest
 * digest (one list call of one key finds it); the second is the sequence number for people.
 */
export const digestKey = (seq: number) => `${DIGEST_PREFIX}${pad(MAX_SEQ - seq)}-${pad(seq)}.json`;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const HeadSchema = z.strictObject({
  kind: z.enum(CHAIN_KINDS),
  id: z.string().min(1),
  count: z.number().int().nonnegative(),
  hash: hex64,
});

/** Why the writer did not seal a chain's head: the table disagrees with what an earlier digest sealed. */
export const ANOMALIES = ['missing', 'cut', 'rewritten', 'broken', 'orphaned'] as const;
export type Anomaly = (typeof ANOMALIES)[number];

export const DigestSchema = z.strictObject({
  version: z.literal(DIGEST_VERSION),
  /** The table whose trail this seals. */
  trail: z.string().min(1),
  seq: z.number().int().positive().max(MAX_SEQ),
  /** When the writer read the table (its wall clock). */
  at: z.iso.datetime(),
  /** A checkpoint lists every sealed head; a delta, the heads that changed since the previous digest. */
  kind: z.enum(['checkpoint', 'delta']),
  /** The checkpoint a delta builds on (a checkpoint names itself). */
  checkpoint: z.number().int().positive(),
  /** The previous digest, by its key and the SHA-256 of its file; null for the first. */
  previous: z.strictObject({ seq: z.number().int().positive(), key: z.string(), sha256: hex64 }).nullable(),
  /** Sorted by chain key. */
  heads: z.array(HeadSchema),
  /** Every head sealed after this digest: how many chains, and SHA-256 over them in key order. */
  sealed: z.strictObject({ chains: z.number().int().nonnegative(), root: hex64 }),
  /** Chains whose table head the writer refused to seal (it keeps the head sealed before). */
  anomalies: z.array(
    z.strictObject({
      kind: z.enum(CHAIN_KINDS),
      id: z.string().min(1),
      anomaly: z.enum(ANOMALIES),
      detail: z.string(),
    }),
  ),
  signing: z.strictObject({ algorithm: z.enum(SIGNATURE_ALGORITHMS), keyId: z.string().min(1) }),
});
export type Digest = z.infer<typeof DigestSchema>;
export type DigestAnomaly = Digest['anomalies'][number];

/** A digest file: the digest and the signature over its canonical JSON (base64). */
const DigestFileSchema = z.strictObject({ digest: z.unknown(), signature: z.string().min(1) });

/**
 * What a digest's signature covers, as CloudTrail's "string to sign": a context line, the trail,
 * the sequence number and the SHA-256 of the digest's canonical JSON. Short, whatever the size of
 * the digest, so KMS signs it as a raw message.
 */
export const signedBytes = (digest: Digest) =>
  Buffer.from(
    `closeloop audit digest v${DIGEST_VERSION}\n${digest.trail}\n${digest.seq}\n${sha256Hex(Buffer.from(canonical(digest), 'utf8'))}`,
    'utf8',
  );

export function encodeDigestFile(digest: Digest, signature: Buffer): Buffer {
  return Buffer.from(`${JSON.stringify({ digest, signature: signature.toString('base64') }, null, 1)}\n`, 'utf8');
}

export const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** SHA-256 over every sealed head, one `<key> <count> <hash>` line each, in key order. */
export function sealedRoot(heads: ReadonlyMap<string, ChainHead>): string {
  const hash = createHash('sha256');
  for (const key of [...heads.keys()].sort()) {
    const head = heads.get(key)!;
    hash.update(`${key} ${head.count} ${head.hash}\n`);
  }
  return hash.digest('hex');
}

/** A digest read from the archive. */
export interface StoredDigest {
  key: string;
  digest: Digest;
  /** SHA-256 of the file: what the next digest's `previous` names. */
  sha256: string;
  signature: Buffer;
}

/** Parses a digest file; undefined with the reason when it is not one. */
export function parseDigestFile(key: string, bytes: Buffer): StoredDigest | string {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return `${key} is not JSON`;
  }
  const file = DigestFileSchema.safeParse(json);
  if (!file.success) return `${key} is not a digest file`;
  const digest = DigestSchema.safeParse(file.data.digest);
  if (!digest.success)
    return `${key} is not a digest: ${digest.error.issues.map((i) => `"${i.path.join('.')}" ${i.message}`).join('; ')}`;
  return { key, digest: digest.data, sha256: sha256Hex(bytes), signature: Buffer.from(file.data.signature, 'base64') };
}

/** The latest digest and every head sealed as of it. */
export interface Sealed {
  latest: StoredDigest;
  heads: Map<string, ChainHead>;
  /** Every digest read, oldest first (from the checkpoint, or the first digest). */
  read: number;
}

/** What reading the digests found wrong: a missing or altered digest, a bad signature, a broken link. */
export class DigestChainError extends CloseloopError {
  constructor(
    readonly problems: string[],
    options?: ErrorOptions,
  ) {
    super(problems.join('; '), options);
    this.name = 'DigestChainError';
  }
}

/**
 * Reads the latest digest and the digests it builds on (from its checkpoint, or from the first
 * when `fromFirst`), checking each: its key and sequence, its link to the one before (SHA-256 of
 * that file), its trail, its signature when `verify` is given, and its sealed root against the
 * heads folded so far. Returns undefined when there is no digest yet; throws DigestChainError
 * naming every problem.
 */
export async function readSealed(
  archive: DigestArchive,
  options: {
    trail: string;
    verify?: (stored: StoredDigest) => string | undefined;
    fromFirst?: boolean;
  },
): Promise<Sealed | undefined> {
  const latestKey = await archive.firstKey(DIGEST_PREFIX);
  if (!latestKey) return undefined;
  const problems: string[] = [];
  const load = async (key: string): Promise<StoredDigest | undefined> => {
    const bytes = await archive.get(key);
    if (!bytes) {
      problems.push(`${key} is missing`);
      return undefined;
    }
    const parsed = parseDigestFile(key, bytes);
    if (typeof parsed === 'string') {
      problems.push(parsed);
      return undefined;
    }
    if (parsed.digest.trail !== options.trail)
      problems.push(`${key} seals the trail of table ${parsed.digest.trail}, not ${options.trail}`);
    const bad = options.verify?.(parsed);
    if (bad) problems.push(`${key}: ${bad}`);
    return parsed;
  };
  const latest = await load(latestKey);
  if (!latest) throw new DigestChainError(problems);
  if (digestKey(latest.digest.seq) !== latestKey)
    throw new DigestChainError([
      `${latestKey} holds digest #${latest.digest.seq}: it is not where that digest belongs`,
    ]);
  const start = options.fromFirst ? 1 : latest.digest.checkpoint;
  const heads = new Map<string, ChainHead>();
  let previous: StoredDigest | undefined;
  let read = 0;
  for (let seq = start; seq <= latest.digest.seq; seq++) {
    const stored = seq === latest.digest.seq ? latest : await load(digestKey(seq));
    if (!stored) break;
    read++;
    const d = stored.digest;
    if (d.seq !== seq) problems.push(`${stored.key} holds digest #${d.seq}, not #${seq}`);
    if (previous) {
      if (!d.previous || d.previous.seq !== seq - 1 || d.previous.sha256 !== previous.sha256)
        problems.push(`digest #${seq} does not link to digest #${seq - 1} as stored: a digest was replaced`);
      if (d.at < previous.digest.at) problems.push(`digest #${seq} was taken before digest #${seq - 1}`);
    } else if (seq === 1 && d.previous !== null) problems.push('digest #1 names a previous digest');
    if (d.kind === 'checkpoint') {
      if (d.checkpoint !== seq) problems.push(`checkpoint #${seq} names checkpoint #${d.checkpoint}`);
      const listed = new Map(d.heads.map((h) => [chainKey(h), h]));
      if (seq !== start && sealedRoot(listed) !== sealedRoot(heads))
        problems.push(`checkpoint #${seq} does not list the heads the digests before it sealed`);
      heads.clear();
      for (const [key, head] of listed) heads.set(key, head);
    } else {
      if (seq === start) problems.push(`digest #${seq} is a delta where a checkpoint was expected`);
      for (const head of d.heads) heads.set(chainKey(head), head);
    }
    if (d.sealed.chains !== heads.size || d.sealed.root !== sealedRoot(heads))
      problems.push(`digest #${seq}: its sealed root does not match the heads it and the digests before it list`);
    previous = stored;
  }
  if (problems.length > 0) throw new DigestChainError(problems);
  return { latest, heads, read };
}
