import { chainEvents, type AuditEventDraft } from '../audit/chain';
import type { Clock } from '../shared/clock';
import { ConcurrentUpdateError, FindingNotFoundError } from '../shared/errors';
import type { Finding } from './model';
import type { FindingStore, FindingWrite } from './ports';
import { findingWrite } from './write';

const MAX_ATTEMPTS = 8;

/** A change of one finding: its new fields and the events it appends, or `undefined` to write nothing. */
export type FindingChange = (
  current: Finding,
  at: string,
) => { finding: Finding; events: Array<Omit<AuditEventDraft, 'at'>> } | undefined;

/**
 * The write `change` makes of `current`: the events chained after its last one, the version and
 * chain head advanced, guarded by the version read. `undefined` when the change writes nothing.
 * For a caller that writes it with other items of its own (see `TicketStore.recordStoredTicket`);
 * everyone else calls `updateFinding`.
 */
export function prepareFindingUpdate(current: Finding, clock: Clock, change: FindingChange): FindingWrite | undefined {
  const at = clock.now().toISOString();
  const result = change(current, at);
  if (!result) return undefined;
  const events = chainEvents(
    current.id,
    { count: current.eventCount, lastHash: current.lastEventHash },
    result.events.map((e) => ({ ...e, at })),
  );
  const last = events[events.length - 1];
  const next: Finding = {
    ...result.finding,
    version: current.version + 1,
    eventCount: last ? last.seq : current.eventCount,
    lastEventHash: last ? last.hash : current.lastEventHash,
  };
  return findingWrite({ finding: next, expectedVersion: current.version, events });
}

/**
 * Read-modify-write of one finding with its audit events, guarded by `version`: a concurrent
 * writer (an ingest adding a source, a webhook) makes us re-read and re-apply `change`.
 * `change` returns the new finding fields and the events, or `undefined` to write nothing.
 * `current`, when the caller has just read the finding, saves the first read (a stale copy only
 * costs a retry: the write is guarded by its version).
 */
export async function updateFinding(
  store: FindingStore,
  clock: Clock,
  findingId: string,
  change: FindingChange,
  options: { current?: Finding } = {},
): Promise<Finding> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = attempt === 0 && options.current ? options.current : await store.get(findingId);
    if (!current) throw new FindingNotFoundError(findingId);
    const write = prepareFindingUpdate(current, clock, change);
    if (!write) return current;
    const { conflicts } = await store.commit([write]);
    if (conflicts.length === 0) return write.finding;
  }
  throw new ConcurrentUpdateError(findingId);
}
