import { chainEvents } from '../audit/chain';
import type { Clock } from '../shared/clock';
import { ConcurrentUpdateError } from '../shared/errors';
import { findingIdFor, sha256Of } from '../finding/identity';
import { waitScope } from '../finding/waiting';
import { createFinding, mergeObservation, type Change } from '../finding/merge';
import type { Finding, Observation } from '../finding/model';
import type { FindingStore, FindingWrite, QuarantineEntry } from '../finding/ports';
import { findingWrite } from '../finding/write';
import type { LifecycleLauncher } from '../lifecycle/ports';
import { needsLifecycle, startLifecycles, type StartResult } from '../lifecycle/start';
import { inParallel } from '../shared/concurrency';
import { redactRecord } from '../shared/redaction';

/** What a source connector says about one record of a report. */
export type RecordOutcome =
  | { recordNo: number; kind: 'observation'; observation: Observation }
  | { recordNo: number; kind: 'skipped'; reason: string }
  | { recordNo: number; kind: 'rejected'; problems: string[]; redactedRecord: unknown };

/** The ingest contract printed by `closeloop ingest --json`. */
export interface IngestSummary {
  received: number;
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  rejected: number;
  errors: string[];
}

export const emptySummary = (): IngestSummary => ({
  received: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  skipped: 0,
  rejected: 0,
  errors: [],
});

/** Adds b into a. */
export function addSummary(a: IngestSummary, b: IngestSummary): IngestSummary {
  return {
    received: a.received + b.received,
    created: a.created + b.created,
    updated: a.updated + b.updated,
    unchanged: a.unchanged + b.unchanged,
    skipped: a.skipped + b.skipped,
    rejected: a.rejected + b.rejected,
    errors: [...a.errors, ...b.errors],
  };
}

export interface IngestOptions {
  store: FindingStore;
  clock: Clock;
  /** The report's name as people know it (a file name, an S3 key, `github:owner/repo`). */
  reportName: string;
  format: string;
  /**
   * Records per DynamoDB round: the findings that must be read (BatchGetItem, 100 keys a call), then
   * their writes as transactions of up to 100 items, 8 in flight. @default 400
   */
  batchSize?: number;
  onProgress?: (recordsDone: number) => void;
  /** Collects what the report covered, for clean re-scans (see core/lifecycle/rescan.ts). */
  scope?: ScanCoverage;
  /**
   * Starts the lifecycles the findings of a round need (the start rule, core/lifecycle/start.ts)
   * with the round's commit, side by side (where the launcher can, each finding's write and its
   * start are one write). Without one the sweep starts them. A start that fails does not fail the
   * ingest (its records are committed): the sweep starts it later.
   */
  launcher?: LifecycleLauncher;
  /** Epoch ms after which no more lifecycles are started here (a Lambda's deadline): the sweep starts the rest. */
  startUntil?: number;
  /** What the starts of each round did. */
  onStarted?: (result: StartResult<unknown>) => void;
}

/** What one report covered: the scanners, assets and findings it reported. */
export interface ScanCoverage {
  scanners: Set<string>;
  assets: Set<string>;
  /** The scopes of those assets (core/finding/waiting.ts `waitScope`). */
  scopes: Set<string>;
  findingIds: Set<string>;
  /** Webhook-style records (no secret, found by alias) are not scans: coverage is then unknown. */
  partial: boolean;
}

export const emptyCoverage = (): ScanCoverage => ({
  scanners: new Set(),
  assets: new Set(),
  scopes: new Set(),
  findingIds: new Set(),
  partial: false,
});

/** Asset types a scan covers as a whole (a repository, an account, a resource, a workspace, an image…). */
const SCOPED_ASSETS = new Set([
  'repository',
  'aws_account',
  'aws_resource',
  'workspace',
  'container_image',
  'kubernetes_workload',
  'cloud_resource',
]);

const MAX_CONFLICT_ROUNDS = 8;

/**
 * Merges a report's records into the store: batched reads, guarded writes, conflicts re-read
 * and re-merged, bad records quarantined. Idempotent: the same report again changes nothing.
 */
export async function ingestRecords(
  records: AsyncIterable<RecordOutcome> | Iterable<RecordOutcome>,
  options: IngestOptions,
): Promise<IngestSummary> {
  const batchSize = options.batchSize ?? 400;
  const summary = emptySummary();
  const reading: ReadMode = { assumeNew: true, written: new Set() };
  let batch: Array<{ recordNo: number; observation: Observation }> = [];
  let quarantine: QuarantineEntry[] = [];

  const flush = async () => {
    if (batch.length > 0) {
      const changes = await applyBatch(batch, options, reading);
      changes.forEach((change, index) => {
        if (change === 'skipped-resolved') summary.skipped++;
        else if (change === 'too-large') {
          const { recordNo, observation } = batch[index]!;
          const problem = `its finding would be larger than a DynamoDB item may be (${MAX_ITEM_BYTES / 1000} KB)`;
          summary.rejected++;
          summary.errors.push(`${options.reportName}: record ${recordNo}: ${problem}`);
          // Observations carry no secret; the summary says what it was and where.
          const redactedRecord = boundedRecord(
            JSON.stringify(
              redactRecord({
                detector: observation.detector,
                title: observation.title,
                locations: observation.locations.length,
                path: observation.locations[0]?.path?.slice(0, 200),
              }),
            ),
          );
          quarantine.push({
            id: sha256Of(options.format, options.reportName, String(recordNo), 'too-large').slice(0, 32),
            receivedAt: options.clock.now().toISOString(),
            file: options.reportName,
            format: options.format,
            recordNo,
            problems: [problem],
            redactedRecord,
          });
        } else summary[change]++;
      });
    }
    if (quarantine.length > 0) await options.store.quarantine([...new Map(quarantine.map((q) => [q.id, q])).values()]);
    batch = [];
    quarantine = [];
    options.onProgress?.(summary.received);
  };

  /** Takes one outcome; true when a batch is full and must be flushed. */
  const take = (outcome: RecordOutcome): boolean => {
    summary.received++;
    if (outcome.kind === 'observation') {
      batch.push({ recordNo: outcome.recordNo, observation: outcome.observation });
      const scope = options.scope;
      if (scope) {
        const o = outcome.observation;
        scope.scanners.add(o.source.scanner);
        if (SCOPED_ASSETS.has(o.asset.type)) {
          scope.assets.add(o.asset.id);
          scope.scopes.add(waitScope(o.asset));
        }
        if (!o.secretHash && o.aliasKey) scope.partial = true;
        else scope.findingIds.add(findingIdFor(o.fingerprint));
      }
    } else if (outcome.kind === 'skipped') {
      summary.skipped++;
    } else {
      summary.rejected++;
      for (const problem of outcome.problems)
        summary.errors.push(`${options.reportName}: record ${outcome.recordNo}: ${problem}`);
      const redactedRecord = boundedRecord(JSON.stringify(outcome.redactedRecord ?? null));
      // One entry per record of a report: two identical bad records are two entries (one key
      // twice in a BatchWriteItem fails the whole batch), and re-ingesting the report rewrites them.
      quarantine.push(
        quarantineEntry([options.format, options.reportName, String(outcome.recordNo), redactedRecord], {
          receivedAt: options.clock.now().toISOString(),
          file: options.reportName,
          format: options.format,
          recordNo: outcome.recordNo,
          problems: outcome.problems,
          redactedRecord,
        }),
      );
    }
    return batch.length >= batchSize || quarantine.length >= 25;
  };

  // A parsed document is a plain iterable: stepping it with for-await would cost a promise
  // and a microtask per record, for nothing.
  if (Symbol.asyncIterator in records) {
    for await (const outcome of records) if (take(outcome)) await flush();
  } else {
    for (const outcome of records) if (take(outcome)) await flush();
  }
  await flush();
  return summary;
}

/** A quarantine entry; its id is a digest of `identity`, so the same rejection kept twice is one entry. */
function quarantineEntry(identity: string[], entry: Omit<QuarantineEntry, 'id'>): QuarantineEntry {
  return { id: sha256Of(...identity).slice(0, 32), ...entry };
}

/**
 * A report that cannot be read as its format at all (nothing from it was written), kept as one
 * quarantine entry naming it: retrying cannot fix a broken file, and nothing is lost.
 */
export async function quarantineUnreadableReport(
  deps: Pick<IngestOptions, 'store' | 'clock'>,
  report: { name: string; problem: string; identity: string[]; format?: string },
): Promise<void> {
  await deps.store.quarantine([
    quarantineEntry(report.identity, {
      receivedAt: deps.clock.now().toISOString(),
      file: report.name,
      format: report.format ?? 'unknown',
      recordNo: 0,
      problems: [report.problem],
      redactedRecord: 'null',
    }),
  ]);
}

/** Characters of a redacted record kept in the quarantine: a DynamoDB item holds 400 KB. */
export const MAX_QUARANTINED_RECORD = 64 * 1024;

/** The redacted record as stored: whole when it fits, else its start, marked as cut. */
function boundedRecord(json: string): string {
  if (json.length <= MAX_QUARANTINED_RECORD) return json;
  return JSON.stringify({ truncated: true, characters: json.length, start: json.slice(0, MAX_QUARANTINED_RECORD / 4) });
}

type RecordChange = Change | 'skipped-resolved' | 'too-large';

/**
 * Whether an ingest reads its findings before writing them. A report of new findings (a first
 * scan, a new repository) need not: each is written as new, guarded by `attribute_not_exists`, and
 * a guard that fails names a finding that exists, which the next round reads and merges, as it
 * does when a concurrent ingest created it first. Each such round reads one finding, a probe, so
 * a re-scan (whose first finding is tracked) reads at once. Once one finding of the ingest turns
 * out to exist (one it wrote itself does not count), the rest of it reads first: a cancelled
 * transaction costs its whole round again.
 */
interface ReadMode {
  assumeNew: boolean;
  /** Findings this ingest wrote while it read none: they exist, and say nothing of the rest. */
  written: Set<string>;
}

/**
 * The ids of a round that may be written as new without a read: not those the ingest wrote in an
 * earlier round (a secret found again further down the report), and only those whose records
 * would all create: a record the scanner reports resolved creates nothing, and a record found by
 * its alias (a webhook's) names a finding that may exist, so both need to know.
 */
function assumedNew(
  batch: Array<{ observation: Observation }>,
  targetOf: (o: Observation) => string,
  ids: Set<string>,
  reading: ReadMode,
): Set<string> {
  const out = new Set([...ids].filter((id) => !reading.written.has(id)));
  for (const { observation: o } of batch)
    if (o.source.state === 'resolved' || (!o.secretHash && o.aliasKey)) out.delete(targetOf(o));
  return out;
}

/**
 * Largest finding item written, in bytes of its JSON: DynamoDB refuses items over 400 KB (and
 * one refused item fails its whole transaction), with room for attribute names and index keys.
 */
export const MAX_ITEM_BYTES = 350_000;

/**
 * Records of one finding taken in one round: each can add two events and an alias, and a
 * finding's write with all of them must fit one transaction (100 items). The rest wait for the
 * next round, so a report with one secret in hundreds of commits ingests rather than aborts.
 */
const MAX_RECORDS_PER_FINDING = 30;

/** A batch in as many rounds as its busiest finding needs. */
async function applyBatch(
  batch: Array<{ recordNo: number; observation: Observation }>,
  options: IngestOptions,
  reading: ReadMode,
): Promise<RecordChange[]> {
  const seen = new Map<string, number>();
  const now: number[] = [];
  const later: number[] = [];
  batch.forEach(({ observation: o }, index) => {
    const key = !o.secretHash && o.aliasKey ? `alias:${o.aliasKey}` : findingIdFor(o.fingerprint);
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    (count <= MAX_RECORDS_PER_FINDING ? now : later).push(index);
  });
  if (later.length === 0) return applyRound(batch, options, reading);
  const results: RecordChange[] = new Array(batch.length);
  const first = await applyRound(
    now.map((i) => batch[i]!),
    options,
    reading,
  );
  now.forEach((i, k) => (results[i] = first[k]!));
  const rest = await applyBatch(
    later.map((i) => batch[i]!),
    options,
    reading,
  );
  later.forEach((i, k) => (results[i] = rest[k]!));
  return results;
}

/** One round: resolve aliases, read, merge in memory, commit; conflicts go round again. */
async function applyRound(
  batch: Array<{ recordNo: number; observation: Observation }>,
  options: IngestOptions,
  reading: ReadMode,
): Promise<RecordChange[]> {
  const { store, clock } = options;
  const now = clock.now();
  const actor = `ingest:${options.format}`;

  // A report without the secret (a webhook) finds its finding through the alias of its alert.
  const aliasLookups = batch
    .filter((r) => !r.observation.secretHash && r.observation.aliasKey)
    .map((r) => r.observation.aliasKey!);
  const aliases = aliasLookups.length > 0 ? await store.resolveAliases(aliasLookups) : new Map<string, string>();
  const targetOf = (o: Observation) =>
    (!o.secretHash && o.aliasKey && aliases.get(o.aliasKey)) || findingIdFor(o.fingerprint);

  const results: RecordChange[] = new Array(batch.length);
  let pendingIds = new Set(batch.map((r) => targetOf(r.observation)));

  for (let round = 0; pendingIds.size > 0; round++) {
    if (round >= MAX_CONFLICT_ROUNDS) throw new ConcurrentUpdateError([...pendingIds][0]!);
    // Assumed new (see ReadMode): not read; a guard that fails says it exists, and the next round reads it.
    const unread =
      round === 0 && reading.assumeNew ? assumedNew(batch, targetOf, pendingIds, reading) : new Set<string>();
    // One of them is read all the same, a probe: a re-scan's first finding exists, and then the
    // round reads the rest instead of paying for a cancelled transaction.
    const probe = unread.values().next().value;
    if (probe !== undefined) unread.delete(probe);
    const existing = await store.getMany([...pendingIds].filter((id) => !unread.has(id)));
    if ([...existing.keys()].some((id) => !reading.written.has(id))) {
      reading.assumeNew = false;
      if (unread.size > 0) for (const [id, finding] of await store.getMany([...unread])) existing.set(id, finding);
      unread.clear();
    }
    const writes = new Map<string, Omit<FindingWrite, 'outbox' | 'notices' | 'history'>>();
    const working = new Map<string, Finding>(existing);
    const originalVersion = new Map<string, number | null>(
      [...pendingIds].map((id) => [id, existing.get(id)?.version ?? null]),
    );
    const drafts = new Map<string, FindingWrite['events']>();
    const aliasesOf = new Map<string, Set<string>>();

    batch.forEach(({ observation }, index) => {
      const id = targetOf(observation);
      if (!pendingIds.has(id)) return;
      const current = working.get(id);
      if (!current && observation.source.state === 'resolved') {
        // The scanner already closed it and we never tracked it: nothing to own or fix.
        results[index] = 'skipped-resolved';
        return;
      }
      const merged = current
        ? mergeObservation(current, observation, now, actor)
        : createFinding(observation, now, actor);
      if (merged.change === 'created' && merged.finding.id !== id) merged.finding = { ...merged.finding, id };
      if (merged.write && Buffer.byteLength(JSON.stringify(merged.finding)) > MAX_ITEM_BYTES) {
        // The record is refused, not the finding: it stays as it was, and the rest of the report is written.
        results[index] = 'too-large';
        return;
      }
      results[index] = merged.change;
      if (!merged.write) return;
      // Several records of one report can hit one finding: keep one version bump per round.
      const base = originalVersion.get(id) ?? null;
      merged.finding.version = (base ?? 0) + 1;
      working.set(id, merged.finding);
      const chained = drafts.get(id) ?? [];
      chained.push(
        ...chainEvents(
          id,
          { count: current?.eventCount ?? 0, lastHash: current?.lastEventHash ?? merged.finding.lastEventHash },
          merged.events,
        ),
      );
      drafts.set(id, chained);
      if (merged.change === 'created' && observation.aliasKey) aliasesOf.set(id, new Set([observation.aliasKey]));
      else if (observation.aliasKey && !aliases.has(observation.aliasKey) && observation.secretHash) {
        const set = aliasesOf.get(id) ?? new Set<string>();
        set.add(observation.aliasKey);
        aliasesOf.set(id, set);
      }
      const last = chained[chained.length - 1];
      working.set(id, {
        ...merged.finding,
        eventCount: last ? last.seq : merged.finding.eventCount,
        lastEventHash: last ? last.hash : merged.finding.lastEventHash,
      });
      writes.set(id, { finding: working.get(id)!, expectedVersion: base, events: chained, aliases: [] });
    });
    const prepared = [...writes].map(([id, write]) =>
      findingWrite({ ...write, aliases: [...(aliasesOf.get(id) ?? [])] }),
    );
    const { conflicts, started } = await commitAndStart(prepared, options);
    pendingIds = new Set(conflicts);
    if (conflicts.some((id) => unread.has(id))) reading.assumeNew = false;
    if (reading.assumeNew)
      for (const w of prepared) if (!pendingIds.has(w.finding.id)) reading.written.add(w.finding.id);
    if (started) options.onStarted?.(started);
  }
  return results;
}

/**
 * Commits a round's writes and starts the lifecycles they need. Where the launcher can
 * (`commitWithStart`: the local runner), a finding that needs its lifecycle is committed with its
 * start as one write; the other writes are committed together, then started side by side, each
 * from the finding as committed (its chain head bound to its state), so no start reads it again.
 * Returns the ids whose guard failed (nothing of theirs was applied) and what the starts did.
 */
async function commitAndStart(
  writes: FindingWrite[],
  options: IngestOptions,
): Promise<{ conflicts: string[]; started?: StartResult<unknown> }> {
  const { store, launcher } = options;
  const inTime = () => options.startUntil === undefined || Date.now() < options.startUntil;
  const together = launcher?.commitWithStart && inTime() ? writes.filter((w) => needsLifecycle(w.finding)) : [];
  const alone = writes.filter((w) => !together.includes(w));
  const { conflicts } = alone.length > 0 ? await store.commit(alone) : { conflicts: [] };
  if (!launcher) return { conflicts };
  const lost = new Set(conflicts);
  const held: StartResult<unknown> = { launched: [], deferred: [] };
  await inParallel(launcher.concurrency ?? 1, together, async (write) => {
    const id = write.finding.id;
    if (!inTime()) {
      // Out of time: committed alone; the sweep starts it.
      const mine = await store.commit([write]);
      if (mine.conflicts.length > 0) lost.add(id);
      else held.deferred.push({ id });
      return;
    }
    const outcome = await launcher.commitWithStart!(write);
    if (!outcome.committed) lost.add(id);
    else if (outcome.problem !== undefined) held.deferred.push({ id, problem: outcome.problem });
    else if (outcome.run !== undefined) held.launched.push({ id, run: outcome.run });
  });
  const committed = alone.filter((w) => !lost.has(w.finding.id)).map((w) => w.finding);
  const started = await startLifecycles(launcher, committed, {
    ...(options.startUntil !== undefined ? { until: options.startUntil } : {}),
  });
  return {
    conflicts: [...lost],
    started: { launched: [...held.launched, ...started.launched], deferred: [...held.deferred, ...started.deferred] },
  };
}
