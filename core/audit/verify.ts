import { inParallel } from '../shared/concurrency';
import { verifyChain, type AuditEvent } from './chain';
import { DigestChainError, readSealed, signedBytes, type Sealed, type StoredDigest } from './digest';
import {
  chainKey,
  type AuditTrailStore,
  type ChainHead,
  type ChainKind,
  type DigestArchive,
  type DigestVerifyKey,
} from './ports';

/** What `audit verify` found wrong with one chain (or the digests). */
export interface AuditProblem {
  /** The chain, or `digests` for the digest chain itself. */
  kind: ChainKind | 'digests';
  id: string;
  /** chain: its hashes; state: fields changed without an event; sealed: differs from a digest; record: the item itself. */
  check: 'chain' | 'state' | 'sealed' | 'record' | 'digest';
  problem: string;
}

/** A chain whose newest events no digest has sealed yet: checked by their hashes only. */
export interface UnsealedChange {
  kind: ChainKind;
  id: string;
  /** Events the latest digest sealed (0: the chain is newer than it). */
  sealedCount: number;
  count: number;
}

export interface AuditVerification {
  ok: boolean;
  findings: number;
  secrets: number;
  events: number;
  problems: AuditProblem[];
  /** The latest digest, or null when there is none yet (nothing sealed: hashes only). */
  digest: {
    seq: number;
    at: string;
    key: string;
    location: string;
    keyId: string;
    chains: number;
    /** Digests read and checked (from the checkpoint, or all). */
    read: number;
    /** Older than two digest intervals: the writer may have stopped. */
    stale: boolean;
  } | null;
  /** What changed since the latest digest: not yet tamper-evident against a table writer. */
  sinceDigest: UnsealedChange[];
  /** Chains last written before state binding: their records' fields are not bound to their events. */
  unbound: number;
}

export interface AuditVerifyDeps {
  trail: AuditTrailStore;
  /** The table's name, which every digest of this trail names. */
  trailName: string;
  /** The digests and the public key to check them with; without, chains are checked by their hashes only. */
  digests?: {
    archive: DigestArchive;
    key: DigestVerifyKey;
    /** Minutes between digests (the policy's): a latest digest older than twice that is stale. */
    intervalMinutes: number;
    /** Check every digest from the first, not only from the latest checkpoint. */
    fromFirst?: boolean;
  };
  /** The verifier's wall clock. */
  now: () => Date;
}

/** Chains whose events verify reads at once. */
const CHAINS_IN_PARALLEL = 8;

/**
 * `closeloop audit verify`: every chain in the table, found through the items' own partitions (a
 * finding whose index keys were removed is still found, and named), checked event by event, its
 * record's decision fields against the state its latest event bound, and its head against the
 * latest digest: a sealed head must still be in the chain, at its place, with its hash, and every
 * sealed chain must still exist. The digests themselves are checked first: signature, links and
 * sealed roots. What changed since the latest digest is listed apart: it is protected by the hash
 * chain only until the next digest seals it.
 */
export async function verifyAuditTrail(deps: AuditVerifyDeps): Promise<AuditVerification> {
  const problems: AuditProblem[] = [];
  let sealed: Sealed | undefined;
  if (deps.digests) {
    const { key } = deps.digests;
    try {
      sealed = await readSealed(deps.digests.archive, {
        trail: deps.trailName,
        verify: (stored) => signatureProblem(stored, key),
        ...(deps.digests.fromFirst ? { fromFirst: true } : {}),
      });
    } catch (err) {
      if (!(err instanceof DigestChainError)) throw err;
      for (const problem of err.problems)
        problems.push({ kind: 'digests', id: deps.digests.archive.location, check: 'digest', problem });
    }
  }
  const { chains, orphans } = await deps.trail.records();
  const sorted = [...chains].sort((a, b) => (chainKey(a) < chainKey(b) ? -1 : 1));
  const trails = await inParallel(CHAINS_IN_PARALLEL, sorted, (chain) => deps.trail.events(chain));
  let events = 0;
  let unbound = 0;
  const sinceDigest: UnsealedChange[] = [];
  const seen = new Set<string>();
  sorted.forEach((record, i) => {
    const chain = trails[i]!;
    const add = (check: AuditProblem['check'], problem: string) =>
      problems.push({ kind: record.kind, id: record.id, check, problem });
    events += chain.length;
    seen.add(chainKey(record));
    for (const problem of record.problems) add('record', problem);
    const verdict = verifyChain(chain, { count: record.count, lastHash: record.hash });
    if (!verdict.ok) add('chain', verdict.problem);
    const binding = stateBinding(chain, record.stateHash);
    if (binding === 'unbound') unbound++;
    else if (binding) add('state', binding);
    if (!sealed) return;
    const head = sealed.heads.get(chainKey(record));
    const seq = sealed.latest.digest.seq;
    if (!head) {
      sinceDigest.push({ kind: record.kind, id: record.id, sealedCount: 0, count: chain.length });
      return;
    }
    const problem = sealedProblem(chain, head, seq);
    if (problem) add('sealed', problem);
    else if (chain.length > head.count)
      sinceDigest.push({ kind: record.kind, id: record.id, sealedCount: head.count, count: chain.length });
  });
  for (const orphan of orphans)
    problems.push({
      ...orphan,
      check: 'record',
      problem: `its events are in the table but its ${orphan.kind === 'finding' ? 'finding item' : 'record'} is gone: deleted`,
    });
  if (sealed)
    for (const [key, head] of sealed.heads)
      if (!seen.has(key) && !orphans.some((o) => chainKey(o) === key))
        problems.push({
          kind: head.kind,
          id: head.id,
          check: 'sealed',
          problem: `digest #${sealed.latest.digest.seq} sealed it with ${head.count} events, and it is no longer in the table: deleted`,
        });
  const latest = sealed?.latest;
  const intervalMs = (deps.digests?.intervalMinutes ?? 60) * 60_000;
  return {
    ok: problems.length === 0,
    findings: chains.filter((c) => c.kind === 'finding').length,
    secrets: chains.filter((c) => c.kind === 'managed_secret').length,
    events,
    problems,
    digest:
      latest && deps.digests
        ? {
            seq: latest.digest.seq,
            at: latest.digest.at,
            key: latest.key,
            location: deps.digests.archive.location,
            keyId: latest.digest.signing.keyId,
            chains: latest.digest.sealed.chains,
            read: sealed!.read,
            stale: deps.now().getTime() - Date.parse(latest.digest.at) > 2 * intervalMs,
          }
        : null,
    sinceDigest,
    unbound,
  };
}

/** Why a digest's signature does not hold under the trusted key, or undefined. */
function signatureProblem(stored: StoredDigest, key: DigestVerifyKey): string | undefined {
  const { signing } = stored.digest;
  if (signing.keyId !== key.keyId || signing.algorithm !== key.algorithm)
    return `signed by ${signing.keyId} (${signing.algorithm}), not by the key it is checked with (${key.keyId})`;
  if (!key.verify(signedBytes(stored.digest), stored.signature))
    return 'its signature does not verify: the digest was altered or not written by the digest writer';
  return undefined;
}

/**
 * Whether the record's fields are the state its latest event bound: undefined when they are,
 * 'unbound' for a chain written before state binding (no event carries a state), or the problem.
 */
function stateBinding(chain: AuditEvent[], stateHash: string | undefined): string | 'unbound' | undefined {
  const latest = chain[chain.length - 1];
  if (!latest || stateHash === undefined) return undefined;
  if (latest.stateHash === undefined) {
    const bound = [...chain].reverse().find((e) => e.stateHash !== undefined);
    return bound
      ? `its latest event ${latest.seq} (${latest.action}) binds no state, though event ${bound.seq} does: the events after it were removed, or it was written outside closeloop`
      : 'unbound';
  }
  if (latest.stateHash !== stateHash)
    return `its decision fields (owner, status, due date, exception, evidence, …) are not the state its latest event ${latest.seq} (${latest.action}) bound: they were changed without an audit event`;
  return undefined;
}

/** Whether the chain still holds the head a digest sealed. */
function sealedProblem(chain: AuditEvent[], head: ChainHead, seq: number): string | undefined {
  if (chain.length < head.count)
    return `digest #${seq} sealed ${head.count} events and the chain has ${chain.length}: event${head.count - chain.length > 1 ? `s ${chain.length + 1}–${head.count} were` : ` ${head.count} was`} removed`;
  if (head.count > 0 && chain[head.count - 1]!.hash !== head.hash)
    return `event ${head.count} is not the one digest #${seq} sealed: the trail up to it was rewritten`;
  return undefined;
}
