import type { Clock } from '../shared/clock';
import { definitelyNotApplied } from '../shared/errors';
import { updateFinding } from '../finding/update';
import type { Finding } from '../finding/model';
import type { Policy } from '../policy/policy';
import type { FindingStore } from '../finding/ports';
import { redactText } from '../shared/redaction';
import { ticketDraft } from './draft';
import { workId, type SinkRef, type TicketRecord, type TicketWork } from './model';
import type { TicketSink, TicketStore } from './ports';
import { routeTicket, sinkName, type ConfiguredSinks } from './routing';

export interface SyncDeps {
  store: FindingStore;
  tickets: TicketStore;
  clock: Clock;
  policy: Policy;
  /** The sinks that are configured; the local tracker is always there. */
  sinks: Partial<Record<SinkRef['kind'], TicketSink>>;
  /** For routing: the default Jira projects, and whether ServiceNow is configured. */
  configured: ConfiguredSinks;
  /** This worker's name in leases (unique per process). */
  worker: string;
  /** How long a lease protects a ticket from other workers. @default 5 minutes */
  leaseMs?: number;
  /** Waits between rounds (injected in tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Work items read per round. @default 500 */
  batchSize?: number;
  /** Findings worked on at once (bounded concurrency towards the ticketing system). @default 4 */
  concurrency?: number;
  /** The CMDB, when configured: each NHI is upserted as a CI when its ticket opens and closes. */
  cmdb?: { upsert(finding: Finding): Promise<void> };
}

export interface SyncResult {
  created: number;
  updated: number;
  /** Work still pending when the sync stopped (0 means every ticket is up to date). */
  pending: number;
  /** One line per thing that did not go through, already redacted. */
  problems: string[];
}

const ACTOR = 'closeloop:sync';
const describe = (err: unknown) => redactText(err instanceof Error ? err.message : String(err)).slice(0, 300);

/** Runs `fn` over items with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const sinkKey = (s: SinkRef) => JSON.stringify(s);

/**
 * Pushes pending ticket work (the outbox) to the routed sinks, exactly once:
 * 1. each finding's ticket is leased, so two workers never act on it at once;
 * 2. before a create, the intent is recorded (`uncertain`); after, the key;
 * 3. an `uncertain` ticket (a crash or a lost response between "created" and "recorded") is
 *    looked up by label first, and created again only when the lookup, trusted only after the
 *    sink's consistency lag, says it does not exist;
 * 4. updates (comments, priority, transitions) follow in event order, each carrying its work id
 *    so a retry after a lost answer does not repeat it.
 * Rounds repeat until nothing is pending, nothing more can be done now, or `deadlineMs` passes.
 */
export async function syncTickets(deps: SyncDeps, options: { deadlineMs?: number } = {}): Promise<SyncResult> {
  const result: SyncResult = { created: 0, updated: 0, pending: 0, problems: [] };
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  const deadline = options.deadlineMs ?? 60_000;
  for (;;) {
    const round = await syncRound(deps, result);
    result.pending = await deps.tickets.countPending();
    if (result.pending === 0 || (round.progress === 0 && round.retryInMs === undefined)) break;
    if (Date.now() - started >= deadline) break;
    if (round.progress === 0 && round.retryInMs !== undefined)
      await sleep(Math.min(round.retryInMs, Math.max(0, deadline - (Date.now() - started))));
  }
  return result;
}

async function syncRound(deps: SyncDeps, result: SyncResult): Promise<{ progress: number; retryInMs?: number }> {
  // Leases and Jira's index lag are about real time, not the hub's (possibly simulated) clock.
  const now = new Date();
  const leaseMs = deps.leaseMs ?? 5 * 60_000;
  const work = await deps.tickets.pendingWork(deps.batchSize ?? 500);
  if (work.length === 0) return { progress: 0 };
  const byFinding = new Map<string, TicketWork[]>();
  for (const w of work) byFinding.set(w.findingId, [...(byFinding.get(w.findingId) ?? []), w]);
  for (const list of byFinding.values()) list.sort((a, b) => a.seq - b.seq);
  const ids = [...byFinding.keys()];
  const [findings, records] = await Promise.all([deps.store.getMany(ids), deps.tickets.tickets(ids)]);

  let progress = 0;
  let retryInMs: number | undefined;
  const later = (ms: number) => (retryInMs = Math.min(retryInMs ?? ms, ms));
  const claimed = new Map<string, TicketRecord>();
  const iso = (d: Date) => d.toISOString();
  await pool(ids, 16, async (id) => {
    const finding = findings.get(id);
    if (!finding) return;
    let sink: SinkRef;
    try {
      sink = records.get(id)?.sink ?? routeTicket(finding, deps.policy.ticketRouting, deps.configured);
    } catch (err) {
      result.problems.push(`${id}: ${describe(err)}`);
      return;
    }
    const record = await deps.tickets.claimTicket(
      id,
      sink,
      deps.worker,
      iso(now),
      iso(new Date(now.getTime() + leaseMs)),
    );
    if (record) claimed.set(id, record);
    else later(1_000); // another worker holds it; its work will be gone or its lease expired
  });

  try {
    // Creates, per sink: reconcile uncertain ones, then bulk-create the rest.
    const needCreate = [...claimed.values()].filter((r) => !r.key);
    const bySink = new Map<string, TicketRecord[]>();
    for (const r of needCreate) bySink.set(sinkKey(r.sink), [...(bySink.get(sinkKey(r.sink)) ?? []), r]);
    for (const records of bySink.values()) {
      const sinkRef = records[0]!.sink;
      const sink = deps.sinks[sinkRef.kind];
      if (!sink) {
        for (const r of records)
          result.problems.push(`${r.findingId}: routed to ${sinkName(sinkRef.kind)}, which is not configured`);
        continue;
      }
      const toCreate: TicketRecord[] = [];
      const uncertain = records.filter((r) => r.createOutcome === 'uncertain');
      const found =
        uncertain.length > 0
          ? await sink.find(
              uncertain.map((r) => r.findingId),
              sinkRef,
            )
          : new Map<string, { key: string; url?: string }>();
      for (const r of records) {
        const hit = found.get(r.findingId);
        if (hit) {
          await linkTicket(deps, r.findingId, sinkRef, hit.key, hit.url, 'found after an uncertain create');
          r.key = hit.key;
          progress++;
          continue;
        }
        if (r.createOutcome === 'uncertain') {
          // Jira's search may not show an issue created moments ago: trust "not found" only later.
          const trustAt = Date.parse(r.lastAttemptAt ?? '1970-01-01') + sink.lookupLagMs;
          if (now.getTime() < trustAt) {
            later(trustAt - now.getTime());
            continue;
          }
        }
        toCreate.push(r);
      }
      for (let i = 0; i < toCreate.length; i += sink.maxBatch) {
        const chunk = toCreate.slice(i, i + sink.maxBatch);
        const drafts = chunk.map((r) => ticketDraft(findings.get(r.findingId)!, deps.policy));
        await pool(chunk, 16, (r) => deps.tickets.markCreateSent(r.findingId, deps.worker, iso(new Date())));
        try {
          const outcomes = await sink.create(drafts, sinkRef);
          await pool(outcomes, 16, async (o) => {
            if (o.status === 'created') {
              await linkTicket(deps, o.findingId, sinkRef, o.key, o.url, 'created');
              claimed.get(o.findingId)!.key = o.key;
              result.created++;
              progress++;
            } else {
              await deps.tickets.markCreateRejected(o.findingId, o.reason);
              result.problems.push(
                `${o.findingId}: ${sinkName(sinkRef.kind)} refused the ticket: ${redactText(o.reason)}`,
              );
            }
          });
        } catch (err) {
          if (definitelyNotApplied(err)) {
            for (const r of chunk) await deps.tickets.markCreateRejected(r.findingId, describe(err));
            result.problems.push(
              `${chunk.length} ticket create(s) in ${sinkName(sinkRef.kind)} refused: ${describe(err)}`,
            );
          } else {
            // Leave them uncertain: the next round looks them up before creating again.
            later(sink.lookupLagMs);
            result.problems.push(
              `${chunk.length} ticket create(s) in ${sinkName(sinkRef.kind)} had no clear answer (${describe(err)}); they are looked up before any retry`,
            );
          }
        }
      }
    }

    // Updates, in event order per finding.
    // Findings whose work is only the create need no call to the sink: finish those at full speed.
    const keyed = [...claimed.values()].filter((r) => r.key);
    const onlyCreate = keyed.filter(
      (r) => (byFinding.get(r.findingId) ?? []).every((w) => w.op === 'create') && !deps.cmdb,
    );
    await pool(onlyCreate, 16, async (record) => {
      for (const w of byFinding.get(record.findingId) ?? []) {
        await deps.tickets.completeWork(w, iso(deps.clock.now()));
        progress++;
      }
    });
    await pool(
      keyed.filter((r) => !onlyCreate.includes(r)),
      deps.concurrency ?? 4,
      async (record) => {
        const sink = deps.sinks[record.sink.kind];
        if (!sink) return;
        let finding: Finding | undefined = findings.get(record.findingId);
        for (const w of byFinding.get(record.findingId) ?? []) {
          try {
            finding = (await deps.store.get(record.findingId)) ?? finding!;
            // The CI upsert is idempotent (IdentifyReconcile), so it simply repeats on a retry.
            if (deps.cmdb && (w.op === 'create' || w.op === 'close' || w.op === 'reopen'))
              await deps.cmdb.upsert(finding);
            if (w.op === 'create') {
              await deps.tickets.completeWork(w, iso(deps.clock.now()));
              progress++;
              continue;
            }
            await deps.tickets.markWorkAttempted(w);
            await sink.update(record.key!, {
              workId: workId(w),
              op: w.op,
              text: w.text,
              finding,
              retry: w.attempts > 0,
            });
            await deps.tickets.completeWork(w, iso(deps.clock.now()));
            result.updated++;
            progress++;
          } catch (err) {
            await deps.tickets.failWork(w, describe(err));
            result.problems.push(`${record.findingId} ${record.key} (${w.action}): ${describe(err)}`);
            if (!definitelyNotApplied(err) && w.attempts < 5) later(1_000); // transient: try again this run, a few times
            break; // later work waits: a ticket must not be closed before the comment that explains it
          }
        }
      },
    );
  } finally {
    await pool([...claimed.keys()], 16, (id) => deps.tickets.releaseTicket(id, deps.worker));
  }
  return { progress, ...(retryInMs !== undefined ? { retryInMs } : {}) };
}

/** Records the key on the ticket record and on the finding, with an audit event. */
async function linkTicket(
  deps: SyncDeps,
  findingId: string,
  sink: SinkRef,
  key: string,
  url: string | undefined,
  how: string,
): Promise<void> {
  await deps.tickets.recordTicketKey(findingId, sink.kind, key, url);
  await updateFinding(deps.store, deps.clock, findingId, (f) => {
    if (f.ticket?.key === key) return undefined;
    return {
      finding: { ...f, ticket: { system: sink.kind, key, ...(url ? { url } : {}) } },
      events: [
        {
          actor: ACTOR,
          action: 'ticket.created',
          to: key,
          reason: `${sinkName(sink.kind)} ${key} (${how})`,
          data: { system: sink.kind, key },
        },
      ],
    };
  });
}
