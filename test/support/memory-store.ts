import type { AuditEvent } from '@core/audit/chain';
import type { Finding } from '@core/finding/model';
import type { FindingStore, FindingWrite } from '@core/finding/ports';
import { awaitsLifecycle } from '@core/lifecycle/start';
import { waitingEntry, waitScope, waitsForOwner } from '@core/finding/waiting';

/** An in-memory FindingStore with the version guard, for unit tests of what uses a store (the DynamoDB store has its own). */
export function aMemoryStore(findings: Finding[] = []): FindingStore & { writes: FindingWrite[] } {
  const byId = new Map(findings.map((f) => [f.id, f]));
  const events = new Map<string, AuditEvent[]>();
  const writes: FindingWrite[] = [];
  return {
    writes,
    get: async (id) => byId.get(id),
    getMany: async (ids) => new Map(ids.flatMap((id) => (byId.has(id) ? [[id, byId.get(id)!] as const] : []))),
    resolveAliases: async () => new Map(),
    commit: async (batch) => {
      const conflicts: string[] = [];
      for (const write of batch) {
        const current = byId.get(write.finding.id);
        if ((current?.version ?? null) !== write.expectedVersion) {
          conflicts.push(write.finding.id);
          continue;
        }
        writes.push(write);
        byId.set(write.finding.id, write.finding);
        events.set(write.finding.id, [...(events.get(write.finding.id) ?? []), ...write.events]);
      }
      return { conflicts };
    },
    list: async (filter = {}) => [...byId.values()].filter((f) => !filter.status || f.status === filter.status),
    events: async (id) => events.get(id) ?? [],
    dueTimers: async (now) =>
      [...byId.values()]
        .filter((f) => f.lifecycle?.timerAt && f.lifecycle.timerAt <= now && !awaitsLifecycle(f))
        .sort((a, b) => a.lifecycle!.timerAt!.localeCompare(b.lifecycle!.timerAt!)),
    async *awaitingLifecycle() {
      const awaiting = [...byId.values()].filter(awaitsLifecycle);
      if (awaiting.length > 0) yield awaiting;
    },
    waitingForOwner: async (scopes, match) => {
      const wanted = new Set(scopes);
      return [...byId.values()].filter(
        (f) => waitsForOwner(f) && wanted.has(waitScope(f.asset)) && match(waitingEntry(f)),
      );
    },
    quarantine: async () => undefined,
    listQuarantine: async () => [],
  };
}
