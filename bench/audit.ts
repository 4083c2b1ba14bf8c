/**
 * What the tamper-evident audit trail costs (issue 20.10), as ratios to baselines measured in the
 * same run: the state binding on every finding write (CPU), and the digest writer and
 * `audit verify` over a table of N findings on DynamoDB Local, against one plain Scan of it.
 * Called from bench/run.ts (`BENCH_ONLY=audit npm run bench`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { chainEvents } from '../core/audit/chain';
import { writeDigest } from '../core/audit/digest-writer';
import { verifyAuditTrail } from '../core/audit/verify';
import { expiredExceptionsOf } from '../core/finding/history';
import { createFinding } from '../core/finding/merge';
import type { Finding } from '../core/finding/model';
import { updateFinding } from '../core/finding/update';
import { findingWrite } from '../core/finding/write';
import { fixedClock } from '../core/shared/clock';
import { DynamoAuditTrail } from '../core/store/dynamo-audit-trail';
import { DynamoFindingStore } from '../core/store/dynamo-finding-store';
import { ensureTable } from '../core/store/ensure-table';
import { SingleTable } from '../core/store/table';
import { ticketWorkFor } from '../core/tickets/outbox';
import { localDigestArchive, localDigestKeys } from '../local/audit-digests';
import { anObservation } from '../test/support/factories';

const at = new Date('2026-11-01T00:00:00.000Z');

const time = async (fn: () => Promise<unknown> | unknown) => {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The first write of finding `i`: created, with its events chained (what ingest hands to findingWrite). */
function firstWrite(i: number) {
  const hex = i.toString(16).padStart(64, '0');
  const created = createFinding(
    anObservation({ fingerprint: `secret:${hex}`, secretHash: hex, title: `bench finding ${i}` }),
    at,
    'ingest:bench',
  );
  const events = chainEvents(created.finding.id, { count: 0, lastHash: created.finding.lastEventHash }, [
    ...created.events,
    { at: at.toISOString(), actor: 'closeloop:lifecycle', action: 'owner.assigned', to: `team-${i % 20}` },
  ]);
  const finding: Finding = {
    ...created.finding,
    owner: `team-${i % 20}`,
    eventCount: events.length,
    lastEventHash: events[events.length - 1]!.hash,
  };
  return { finding, events };
}

/** Per finding write: findingWrite (binding included) against what it did before the binding. */
function bindingCost(count: number) {
  const inputs = Array.from({ length: count }, (_, i) => firstWrite(i));
  const rounds = 5;
  const bound: number[] = [];
  const unbound: number[] = [];
  const chaining: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t0 = process.hrtime.bigint();
    for (const { finding, events } of inputs) findingWrite({ finding, expectedVersion: null, events });
    bound.push(Number(process.hrtime.bigint() - t0) / 1e6);
    t0 = process.hrtime.bigint();
    for (const { finding, events } of inputs) {
      ticketWorkFor(events);
      expiredExceptionsOf(finding, events);
    }
    unbound.push(Number(process.hrtime.bigint() - t0) / 1e6);
    t0 = process.hrtime.bigint();
    for (const { finding, events } of inputs)
      chainEvents(
        finding.id,
        { count: 0, lastHash: events[0]!.prevHash },
        events.map(({ at, actor, action }) => ({ at, actor, action })) as never,
      );
    chaining.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const b = median(bound);
  const u = median(unbound);
  const c = median(chaining);
  return {
    writes: count,
    findingWriteMs: b,
    findingWriteBeforeBindingMs: u,
    bindingMicrosecondsPerWrite: ((b - u) / count) * 1000,
    /** What the binding adds, against the chaining every write already does (two SHA-256 per event). */
    bindingVsChaining: (b - u) / c,
  };
}

async function scanAll(client: DynamoDBClient, table: string): Promise<number> {
  let items = 0;
  let start: Record<string, never> | undefined;
  do {
    const out = await client.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items += out.Items?.length ?? 0;
    start = out.LastEvaluatedKey as typeof start;
  } while (start);
  return items;
}

/** The digest writer and audit verify over `n` findings on DynamoDB Local. */
export async function benchAudit(client: DynamoDBClient, n: number): Promise<Record<string, unknown>> {
  const binding = bindingCost(Math.min(n, 20_000));
  const tableName = 'bench-audit';
  await ensureTable(client, tableName);
  const table = new SingleTable(client, tableName);
  const store = new DynamoFindingStore(table);
  const writes = Array.from({ length: n }, (_, i) => firstWrite(i));
  const seedMs = await time(async () => {
    for (let i = 0; i < writes.length; i += 100)
      await store.commit(writes.slice(i, i + 100).map((w) => findingWrite({ ...w, expectedVersion: null })));
  });
  let items = 0;
  const scanMs = await time(async () => (items = await scanAll(client, tableName)));
  const home = mkdtempSync(join(tmpdir(), 'closeloop-bench-audit-'));
  const archive = localDigestArchive(home);
  const { signer, verifyKey } = await localDigestKeys(home);
  const trail = new DynamoAuditTrail(table);
  const digest = () => writeDigest({ trail, archive, signer, trailName: tableName, now: () => new Date() });
  const firstDigestMs = await time(digest);
  const unchangedDigestMs = await time(digest);
  // One finding in a hundred gets a new event, as between two hourly digests of a busy hub.
  const clock = fixedClock(at);
  const touched = writes.filter((_, i) => i % 100 === 0);
  for (const { finding } of touched)
    await updateFinding(store, clock, finding.id, (f) => ({
      finding: f,
      events: [{ actor: 'bench', action: 'ticket.commented', reason: 'bench' }],
    }));
  const deltaDigestMs = await time(digest);
  let verified: Awaited<ReturnType<typeof verifyAuditTrail>> | undefined;
  const verifyMs = await time(
    async () =>
      (verified = await verifyAuditTrail({
        trail,
        trailName: tableName,
        digests: { archive, key: verifyKey, intervalMinutes: 60 },
        now: () => new Date(),
      })),
  );
  const result = {
    findings: n,
    items,
    binding,
    seedMs,
    scanMs,
    firstDigestMs,
    unchangedDigestMs,
    deltaDigestMs,
    deltaChains: touched.length,
    verifyMs,
    verifyOk: verified?.ok ?? false,
    digestVsScan: unchangedDigestMs / scanMs,
    deltaDigestVsScan: deltaDigestMs / scanMs,
    verifyVsScan: verifyMs / scanMs,
    deltaDigestVsSeed: deltaDigestMs / seedMs,
    /** The binding's CPU against the whole guarded write of a new finding to DynamoDB Local (seed time per finding). */
    bindingVsWrite: binding.bindingMicrosecondsPerWrite / ((seedMs / n) * 1000),
  };
  const f = (x: number, d = 2) => x.toFixed(d);
  console.log(
    `audit: state binding ${f(binding.bindingMicrosecondsPerWrite, 1)} µs per finding write → ${f(result.bindingVsWrite, 3)}× the guarded write of a new finding to DynamoDB Local (${f(((seedMs / n) * 1000) / 1000, 2)} ms); ${f(binding.bindingVsChaining)}× the event chaining every write already does`,
  );
  console.log(
    `audit: ${n} findings (${items} items): plain Scan ${f(scanMs, 0)} ms; digest unchanged ${f(unchangedDigestMs, 0)} ms → ${f(result.digestVsScan)}× the Scan; digest of ${touched.length} changed chains ${f(deltaDigestMs, 0)} ms → ${f(result.deltaDigestVsScan)}× the Scan; audit verify ${f(verifyMs, 0)} ms → ${f(result.verifyVsScan)}× the Scan (${verified?.ok ? 'intact' : 'BROKEN'})`,
  );
  return result;
}
