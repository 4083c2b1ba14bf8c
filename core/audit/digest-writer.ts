import { CloseloopError } from '../shared/errors';
import { inParallel } from '../shared/concurrency';
import { verifyChain, verifyExtension } from './chain';
import {
  CHECKPOINT_EVERY,
  DIGEST_VERSION,
  digestKey,
  encodeDigestFile,
  readSealed,
  sealedRoot,
  signedBytes,
  type Digest,
  type DigestAnomaly,
} from './digest';
import { chainKey, type AuditTrailStore, type ChainHead, type DigestArchive, type DigestSigner } from './ports';

export interface DigestWriterDeps {
  trail: AuditTrailStore;
  archive: DigestArchive;
  signer: DigestSigner;
  /** The table whose trail is sealed (named in every digest). */
  trailName: string;
  /** The writer's wall clock: a digest says when the table was read, not the hub's simulated time. */
  now: () => Date;
}

export interface DigestOutcome {
  seq: number;
  key: string;
  kind: Digest['kind'];
  /** Heads sealed by this digest that changed since the previous one (new chains included). */
  changed: number;
  /** Chains sealed after this digest. */
  sealed: number;
  anomalies: DigestAnomaly[];
}

/** The metric the digest writer counts anomalies in (CloudWatch embedded metric format), and its alarm watches. */
export const ANOMALY_METRIC = { namespace: 'closeloop', name: 'AuditTrailAnomalies' } as const;

/** Chains whose events the writer reads at once to check that a new head extends the sealed one. */
const CHAINS_IN_PARALLEL = 8;
/** Attempts when another writer takes the same sequence number first. */
const MAX_ATTEMPTS = 3;

/** Another writer kept taking the next sequence number. */
export class DigestRaceError extends CloseloopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DigestRaceError';
  }
}

/**
 * Writes the next digest: reads every chain head from the table (its own partitions), seals each
 * head that changed since the previous digest once it has checked that the new head extends the
 * sealed one (events read from the sealed head up to the new one, every hash and link checked),
 * and records as an anomaly, without sealing, every chain that was cut, rewritten, deleted or is
 * broken; the head sealed before stays sealed, so `audit verify` keeps reporting it. Written
 * write-once under the next sequence number: when another writer took it, this one reads again.
 */
export async function writeDigest(deps: DigestWriterDeps): Promise<DigestOutcome> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const sealed = await readSealed(deps.archive, { trail: deps.trailName });
    const previous = sealed?.heads ?? new Map<string, ChainHead>();
    const at = deps.now().toISOString();
    const { chains, orphans } = await deps.trail.heads();
    const anomalies: DigestAnomaly[] = [];
    const inTable = new Set(chains.map(chainKey));
    const candidates = chains.filter((head) => {
      const before = previous.get(chainKey(head));
      return !before || before.count !== head.count || before.hash !== head.hash;
    });
    const verdicts = await inParallel(CHAINS_IN_PARALLEL, candidates, (head) =>
      extends_(deps.trail, previous.get(chainKey(head)), head),
    );
    const changed: ChainHead[] = [];
    candidates.forEach((head, i) => {
      const verdict = verdicts[i]!;
      if (verdict === true) changed.push({ kind: head.kind, id: head.id, count: head.count, hash: head.hash });
      else anomalies.push({ kind: head.kind, id: head.id, ...verdict });
    });
    for (const [key, head] of previous)
      if (!inTable.has(key))
        anomalies.push({
          kind: head.kind,
          id: head.id,
          anomaly: 'missing',
          detail: `sealed with ${head.count} events, no longer in the table`,
        });
    for (const orphan of orphans)
      if (!previous.has(chainKey(orphan)))
        anomalies.push({ ...orphan, anomaly: 'orphaned', detail: 'events without their record' });

    const next = new Map(previous);
    for (const head of changed) next.set(chainKey(head), head);
    const seq = (sealed?.latest.digest.seq ?? 0) + 1;
    const checkpoint = !sealed || seq - sealed.latest.digest.checkpoint >= CHECKPOINT_EVERY;
    const byKey = (a: ChainHead, b: ChainHead) => (chainKey(a) < chainKey(b) ? -1 : 1);
    const digest: Digest = {
      version: DIGEST_VERSION,
      trail: deps.trailName,
      seq,
      at,
      kind: checkpoint ? 'checkpoint' : 'delta',
      checkpoint: checkpoint ? seq : sealed!.latest.digest.checkpoint,
      previous: sealed ? { seq: sealed.latest.digest.seq, key: sealed.latest.key, sha256: sealed.latest.sha256 } : null,
      heads: (checkpoint ? [...next.values()] : changed).sort(byKey),
      sealed: { chains: next.size, root: sealedRoot(next) },
      anomalies: anomalies.sort((a, b) => (chainKey(a) < chainKey(b) ? -1 : 1)),
      signing: { algorithm: deps.signer.algorithm, keyId: deps.signer.keyId },
    };
    const signature = await deps.signer.sign(signedBytes(digest));
    const key = digestKey(seq);
    if (await deps.archive.putNew(key, encodeDigestFile(digest, signature)))
      return { seq, key, kind: digest.kind, changed: changed.length, sealed: next.size, anomalies };
  }
  throw new DigestRaceError(
    `another digest writer kept writing digests at the same time (${MAX_ATTEMPTS} attempts); the next run seals what changed`,
  );
}

/**
 * Whether the table's head of a chain extends the head sealed before (or, for a chain not sealed
 * yet, whether its whole chain holds): `true`, or the anomaly.
 */
async function extends_(
  trail: AuditTrailStore,
  sealed: ChainHead | undefined,
  head: ChainHead,
): Promise<true | Pick<DigestAnomaly, 'anomaly' | 'detail'>> {
  if (!sealed) {
    const verdict = verifyChain(await trail.events(head), { count: head.count, lastHash: head.hash });
    return verdict.ok ? true : { anomaly: 'broken', detail: verdict.problem };
  }
  if (head.count < sealed.count)
    return { anomaly: 'cut', detail: `sealed with ${sealed.count} events, the table has ${head.count}` };
  const events = await trail.events(head, { from: Math.max(1, sealed.count), to: head.count });
  const problem = verifyExtension(events, sealed, head);
  return problem ? { anomaly: 'rewritten', detail: problem } : true;
}
