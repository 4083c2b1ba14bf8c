import { AsyncLocalStorage } from 'node:async_hooks';
import { CloseloopError } from '../shared/errors';
import type { Finding } from './model';
import type { FindingStore, FindingWrite } from './ports';

/**
 * A FindingStore that can hold one finding's writes in memory for a stretch of work (a
 * "segment") and commit them as one write at its end: the head written once, the events of every
 * step in one page, every step's outbox entries and notices in the same transaction. For the local
 * runner's start of a lifecycle (triage, route, plan, the first wait), which is several writes in a
 * few milliseconds with nothing outside the store in between.
 *
 * What it guarantees:
 * - Inside a segment, reads of its finding see its held writes, and each step's write is checked
 *   against the version it read, as DynamoDB would check it.
 * - At the end, the held writes go out as one write guarded by the version the segment first read.
 *   If that guard fails (someone else wrote the finding meanwhile), nothing of the segment was
 *   applied and `segment` says so: the caller runs the whole segment again on the fresh finding.
 * - Before anything with effects outside the store (a call to AWS, say), the caller calls
 *   `barrier()`: the held writes are committed then, and the rest of the segment writes through, as
 *   without a segment. A barrier whose commit lost its guard throws SegmentLost before the effect,
 *   so a segment that is run again never repeats an effect.
 * - A segment that throws still commits what it held (each held write was a valid write), then
 *   rethrows. Everything outside the segment's finding, and outside a segment, goes straight through.
 */
export class WriteBehindFindingStore implements FindingStore {
  private readonly segments = new AsyncLocalStorage<Segment>();

  constructor(readonly inner: FindingStore) {}

  /**
   * Runs `work` with the writes of `findingId` held, then commits them; `lost`: its write lost its
   * guard and nothing was applied. `known`, the finding as the caller just read it, is what the
   * segment reads first instead of reading it again (a stale copy only loses the guard: run again).
   */
  async segment<T>(
    findingId: string,
    work: () => Promise<T>,
    options: { known?: Finding } = {},
  ): Promise<{ value: T; lost: boolean }> {
    const segment: Segment = {
      findingId,
      writingThrough: false,
      lost: false,
      ...(options.known?.id === findingId ? { known: options.known } : {}),
    };
    let value: T;
    try {
      value = await this.segments.run(segment, work);
    } catch (err) {
      await this.flush(segment);
      throw err;
    }
    await this.flush(segment);
    return { value, lost: segment.lost };
  }

  /**
   * A segment that starts from `seed`, a write of its finding not yet committed (an ingest's new or
   * changed finding): inside, the finding reads as the seed, and the seed goes out with the
   * segment's writes, under the seed's own guard. Whatever `work` does, the answer says whether the
   * seed was committed: `false` when its guard failed and nothing was applied (the caller reads the
   * finding again, as after any conflict); with `error` when it was committed and the work then
   * failed. A commit whose outcome is unknown (DynamoDB failed) throws, as a plain commit would.
   */
  async seeded<T>(
    seed: FindingWrite,
    work: () => Promise<T>,
  ): Promise<{ committed: false } | { committed: true; value?: T; error?: unknown }> {
    const segment: Segment = { findingId: seed.finding.id, writingThrough: false, lost: false, pending: seed };
    let value: T | undefined;
    let error: unknown;
    let failed = false;
    try {
      value = await this.segments.run(segment, work);
    } catch (err) {
      failed = true;
      error = err;
    }
    await this.flush(segment);
    if (!segment.committed) {
      if (segment.lost) return { committed: false };
      throw error; // a barrier's commit failed: whether the seed was applied is unknown
    }
    return failed ? { committed: true, error } : { committed: true, value: value as T };
  }

  /**
   * Commits what the current segment holds before an effect outside the store; the rest of the
   * segment writes through. Throws SegmentLost when that commit lost its guard (or an earlier one did).
   */
  async barrier(): Promise<void> {
    const segment = this.segments.getStore();
    if (!segment || segment.writingThrough) return;
    await this.flush(segment);
    if (segment.lost) throw new SegmentLost(segment.findingId);
    segment.writingThrough = true;
  }

  async get(id: string): Promise<Finding | undefined> {
    const held = this.current(id);
    return held ? structuredClone(held) : this.inner.get(id);
  }

  async getMany(ids: string[]): Promise<Map<string, Finding>> {
    const segment = this.holding();
    const held = segment ? this.current(segment.findingId) : undefined;
    if (!held || !ids.includes(held.id)) return this.inner.getMany(ids);
    const found = await this.inner.getMany(ids.filter((id) => id !== held.id));
    found.set(held.id, structuredClone(held));
    return found;
  }

  async commit(writes: FindingWrite[]): Promise<{ conflicts: string[] }> {
    const segment = this.holding();
    if (!segment) return this.inner.commit(writes);
    const mine = writes.filter((w) => w.finding.id === segment.findingId);
    const others = writes.filter((w) => w.finding.id !== segment.findingId);
    const conflicts = others.length > 0 ? [...(await this.inner.commit(others)).conflicts] : [];
    for (const write of mine) {
      // A segment that lost is run again from its start: what it writes meanwhile is dropped.
      if (segment.lost) continue;
      if (segment.writingThrough) {
        conflicts.push(...(await this.inner.commit([write])).conflicts);
        continue;
      }
      const pending = segment.pending;
      if (!pending) {
        segment.pending = write;
        continue;
      }
      // The step read something other than what the segment holds: refused, as DynamoDB would.
      if (write.expectedVersion !== pending.finding.version) {
        conflicts.push(write.finding.id);
        continue;
      }
      const merged = mergeWrites(pending, write);
      if (itemsAtMost(merged) <= MAX_HELD_ITEMS) {
        segment.pending = merged;
        continue;
      }
      // Too much for one transaction: commit what is held, and write through from here on.
      await this.flush(segment);
      if (segment.lost) continue;
      segment.writingThrough = true;
      conflicts.push(...(await this.inner.commit([write])).conflicts);
    }
    return { conflicts };
  }

  async events(findingId: string) {
    const held = this.held(findingId);
    const stored = await this.inner.events(findingId);
    return held ? [...stored, ...held.events] : stored;
  }

  resolveAliases(keys: string[]) {
    return this.inner.resolveAliases(keys);
  }
  list(filter?: Parameters<FindingStore['list']>[0]) {
    return this.inner.list(filter);
  }
  dueTimers(now: string) {
    return this.inner.dueTimers(now);
  }
  awaitingLifecycle() {
    return this.inner.awaitingLifecycle();
  }
  waitingForOwner(...args: Parameters<FindingStore['waitingForOwner']>) {
    return this.inner.waitingForOwner(...args);
  }
  quarantine(entries: Parameters<FindingStore['quarantine']>[0]) {
    return this.inner.quarantine(entries);
  }
  listQuarantine() {
    return this.inner.listQuarantine();
  }

  /** The current segment while it still holds writes. */
  private holding(): Segment | undefined {
    const segment = this.segments.getStore();
    return segment && !segment.writingThrough ? segment : undefined;
  }

  private held(id: string): FindingWrite | undefined {
    const pending = this.holding()?.pending;
    return pending?.finding.id === id ? pending : undefined;
  }

  /** The segment's finding as it reads inside the segment: its held write, else what the caller knew. */
  private current(id: string): Finding | undefined {
    const segment = this.holding();
    if (!segment || segment.findingId !== id) return undefined;
    return segment.pending?.finding ?? segment.known;
  }

  private async flush(segment: Segment): Promise<void> {
    const write = segment.pending;
    segment.pending = undefined;
    if (!write || segment.lost) return;
    const { conflicts } = await this.inner.commit([write]);
    if (conflicts.includes(segment.findingId)) segment.lost = true;
    else segment.committed = true;
  }
}

/** The held writes of a segment lost their guard before an effect outside the store: the segment must run again. */
export class SegmentLost extends CloseloopError {
  constructor(findingId: string, options?: ErrorOptions) {
    super(`${findingId} was written by someone else during its lifecycle's start; it starts again`, options);
    this.name = 'SegmentLost';
  }
}

interface Segment {
  findingId: string;
  /** The finding as the caller read it before the segment: read instead of the store until a write is held. */
  known?: Finding;
  /** The held writes, merged into one. */
  pending?: FindingWrite | undefined;
  /** After a barrier (or a held write too large for one transaction): writes go straight through. */
  writingThrough: boolean;
  /** The held writes lost their guard: nothing of them was applied. */
  lost: boolean;
  /** Held writes were committed (for a seeded segment: the seed with them). */
  committed?: boolean;
}

/** Held items at most before they are committed: under TransactWriteItems' 100. */
const MAX_HELD_ITEMS = 90;

/** An upper bound of the items a write puts (its events are at most one item each). */
const itemsAtMost = (w: FindingWrite) =>
  1 +
  w.events.length +
  w.aliases.length +
  w.outbox.length +
  (w.writeback?.length ?? 0) +
  w.notices.length +
  w.history.length;

/** Two consecutive writes of one finding as one: the later head, guarded by the earlier's guard, with everything both owe. */
export function mergeWrites(first: FindingWrite, next: FindingWrite): FindingWrite {
  const byKey = <T>(items: T[], key: (item: T) => string) => [...new Map(items.map((i) => [key(i), i])).values()];
  return {
    finding: next.finding,
    expectedVersion: first.expectedVersion,
    events: [...first.events, ...next.events],
    aliases: [...new Set([...first.aliases, ...next.aliases])],
    outbox: [...first.outbox, ...next.outbox],
    writeback: [...(first.writeback ?? []), ...(next.writeback ?? [])],
    notices: byKey([...first.notices, ...next.notices], (n) => n.id),
    history: byKey([...first.history, ...next.history], (h) => h.expiredAt),
  };
}
