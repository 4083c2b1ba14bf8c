import type { AuditEvent } from './chain';

/** What a hash chain belongs to: a finding, or a managed secret's rotation history. */
export const CHAIN_KINDS = ['finding', 'managed_secret'] as const;
export type ChainKind = (typeof CHAIN_KINDS)[number];

/** A chain's head as its record holds it: how many events, and the hash of the last. */
export interface ChainHead {
  kind: ChainKind;
  /** The finding id, or the managed secret's ARN. */
  id: string;
  count: number;
  hash: string;
}

/** One key per chain, the order digests list them in. */
export const chainKey = (chain: Pick<ChainHead, 'kind' | 'id'>) => `${chain.kind}:${chain.id}`;

/** A chain's record as `audit verify` reads it. */
export interface TrailRecord extends ChainHead {
  /** The hash of the record's bound fields now (core/audit/state.ts); undefined when it cannot be read. */
  stateHash?: string;
  /** What is wrong with the item itself: unreadable, or index keys that hide it from reports. */
  problems: string[];
}

/** Every chain in the table, found through the items' own partitions. */
export interface TrailScan<T> {
  chains: T[];
  /** Partitions holding events but no record: a record deleted with its events left behind. */
  orphans: Array<Pick<ChainHead, 'kind' | 'id'>>;
}

/**
 * The audit trail as stored. Chains are enumerated from the base table's items, never through an
 * index: removing a finding's index keys hides it from reports, not from this.
 */
export interface AuditTrailStore {
  /** Every chain head (light: the digest writer reads this every interval). */
  heads(): Promise<TrailScan<ChainHead>>;
  /** Every chain's record in full, with its state hash and problems (audit verify). */
  records(): Promise<TrailScan<TrailRecord>>;
  /** A chain's events with `from <= seq <= to` (all when no range), in order. */
  events(chain: Pick<ChainHead, 'kind' | 'id'>, range?: { from: number; to: number }): Promise<AuditEvent[]>;
}

/** Signature schemes digests are signed with: KMS ECC_NIST_P256 on AWS, Ed25519 locally. */
export const SIGNATURE_ALGORITHMS = ['ECDSA_SHA_256', 'ED25519'] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

/** Signs digests with a private key only the digest writer can use. */
export interface DigestSigner {
  readonly algorithm: SignatureAlgorithm;
  /** Names the key: its KMS ARN, or `local-ed25519:<fingerprint>`. */
  readonly keyId: string;
  sign(message: Buffer): Promise<Buffer>;
}

/** The public key digests are checked with, from a source the verifier trusts. */
export interface DigestVerifyKey {
  readonly algorithm: SignatureAlgorithm;
  readonly keyId: string;
  verify(message: Buffer, signature: Buffer): boolean;
}

/** Where digests are kept, write-once: S3 with Object Lock on AWS, files never overwritten locally. */
export interface DigestArchive {
  /** Where it is, for messages (`s3://bucket/`, a directory). */
  readonly location: string;
  /** Writes a new object at `key`; false when one is there already (another writer got there first). */
  putNew(key: string, body: Buffer): Promise<boolean>;
  /** The object at `key`, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** The first key under `prefix` in key order, or undefined. */
  firstKey(prefix: string): Promise<string | undefined>;
}
