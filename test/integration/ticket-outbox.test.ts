import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { remediationNotConfigured } from '@core/lifecycle/ports';
import type { Clock } from '@core/shared/clock';
import { DEFAULT_POLICY } from '@core/policy/policy';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import { indexKeys, keys, SingleTable } from '@core/store/table';
import type { TicketWork } from '@core/tickets/model';
import { ingestReportFiles } from '@connectors/sources/ingest-reports';
import { LocalLifecycleRunner } from '@local/lifecycle-runner';
import { aFreshStore } from '@test/support/dynamo';
import { aHasher } from '@test/support/factories';
import { reportFixture } from '@test/support/fixtures';

const T0 = Date.parse('2026-11-02T09:00:00.000Z');
const AT = '2026-11-02T10:00:00.000Z';

/** Findings started under the default policy: each start owes its ticket a create and comments. */
async function world() {
  const fresh = await aFreshStore();
  const clock: Clock = { now: () => new Date(T0) };
  await ingestReportFiles([reportFixture('gitleaks-git.json')], { store: fresh.store, clock, hasher: aHasher() });
  const runner = new LocalLifecycleRunner({
    store: fresh.store,
    clock,
    policy: DEFAULT_POLICY,
    remediation: remediationNotConfigured,
  });
  const started = (await fresh.store.list()).length;
  for (const f of await fresh.store.list()) await runner.start(f);
  const table = new SingleTable(fresh.client, fresh.tableName);
  const tickets = new DynamoTicketStore(table);
  // The finding whose start owes the most: a create and the comments of an approval it waits for.
  const all = await tickets.pendingWork(100);
  const counts = new Map<string, number>();
  for (const x of all) counts.set(x.findingId, (counts.get(x.findingId) ?? 0) + 1);
  const [id] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
  const finding = (await fresh.store.get(id))!;
  const item = async (seq: number) =>
    (await table.doc.send(new GetCommand({ TableName: fresh.tableName, Key: keys.ticketWork(finding.id, seq) }))).Item;
  const pending = async () => (await tickets.pendingWork(100)).filter((w) => w.findingId === finding.id);
  return { ...fresh, table, tickets, finding, item, pending, started };
}

describe('ticket outbox: one item per write', () => {
  it("keeps a write's ticket work as one item, each work with its own seq, op and place", async () => {
    const w = await world();
    const works = await w.pending();

    expect(works.length).toBeGreaterThan(1);
    expect(works.map((x) => x.op)).toEqual(['create', ...works.slice(1).map(() => 'comment')]);
    expect(works.map((x) => x.page)).toEqual(works.map((_, i) => ({ seq: works[0]!.seq, index: i, of: works.length })));
    const item = (await w.item(works[0]!.seq))!;
    expect(item).toMatchObject({ type: 'ticket_works', state: 'pending', gsi4pk: 'OUTBOX' });
    expect((item.works as unknown[]).length).toBe(works.length);
    // One outbox entry per write: the findings' starts, not their works.
    expect(await w.tickets.countPending()).toBe(w.started);
  });

  it('records attempts, the batch (kept once set) and errors on the one work they belong to', async () => {
    const w = await world();
    const [first, second] = await w.pending();

    await w.tickets.markWorkAttempted(second!, 'batch-1');
    await w.tickets.markWorkAttempted(second!, 'batch-2');
    await w.tickets.failWork(first!, 'Jira answered 503');

    const [f, s] = await w.pending();
    expect(s).toMatchObject({ seq: second!.seq, attempts: 2, batch: 'batch-1' });
    expect(s!.lastError).toBeUndefined();
    expect(f).toMatchObject({ seq: first!.seq, attempts: 0, lastError: 'Jira answered 503' });
    expect(f!.batch).toBeUndefined();
  });

  it('completes part of a page: those works are done, the rest stay pending; the last one takes the page out of the outbox', async () => {
    const w = await world();
    const works = await w.pending();
    await w.tickets.failWork(works[0]!, 'timeout');
    const sent = (x: TicketWork): TicketWork => ({ ...x, attempts: x.attempts + 1, batch: 'b-1' });

    await w.tickets.completeWork([sent(works[0]!)], AT);

    expect((await w.pending()).map((x) => x.seq)).toEqual(works.slice(1).map((x) => x.seq));
    expect(await w.tickets.countPending()).toBe(w.started);
    const half = (await w.item(works[0]!.seq))!;
    expect(half.works[0]).toMatchObject({ state: 'done', doneAt: AT, attempts: 1, batch: 'b-1' });
    expect(half.works[0].lastError).toBeUndefined();
    expect(half.works[1]).toMatchObject({ state: 'pending' });

    await w.tickets.completeWork(works.slice(1), AT);

    expect(await w.pending()).toEqual([]);
    expect(await w.tickets.countPending()).toBe(w.started - 1);
    const done = (await w.item(works[0]!.seq))!;
    expect(done).toMatchObject({ state: 'done', doneAt: AT });
    expect(done.gsi4pk).toBeUndefined();
    expect((done.works as Array<{ state: string }>).map((x) => x.state)).toEqual(works.map(() => 'done'));
  });

  it('completes a whole page in one put, keeping what was sent', async () => {
    const w = await world();
    const works = await w.pending();

    await w.tickets.completeWork(
      works.map((x) => ({ ...x, attempts: 1 })),
      AT,
    );

    expect(await w.pending()).toEqual([]);
    expect(await w.tickets.countPending()).toBe(w.started - 1);
    const done = (await w.item(works[0]!.seq))!;
    expect(done).toMatchObject({ type: 'ticket_works', state: 'done', doneAt: AT });
    expect(done.gsi4pk).toBeUndefined();
    expect(done.works).toEqual(
      works.map((x) => expect.objectContaining({ seq: x.seq, text: x.text, attempts: 1, state: 'done', doneAt: AT })),
    );
  });

  it('still reads, attempts, fails and completes work stored one item each by earlier versions', async () => {
    const w = await world();
    const legacy = {
      findingId: w.finding.id,
      seq: 90,
      op: 'comment',
      text: 'Overdue.',
      action: 'sla.breached',
      actor: 'closeloop:timer',
      createdAt: AT,
      attempts: 0,
    };
    await w.table.doc.send(
      new PutCommand({
        TableName: w.tableName,
        Item: {
          ...keys.ticketWork(w.finding.id, 90),
          type: 'ticket_work',
          ...legacy,
          state: 'pending',
          ...indexKeys.outbox(legacy),
        },
      }),
    );
    const old = (await w.pending()).find((x) => x.seq === 90)!;
    expect(old).toMatchObject({ text: 'Overdue.', attempts: 0 });
    expect(old.page).toBeUndefined();

    await w.tickets.markWorkAttempted(old, 'b-9');
    await w.tickets.failWork(old, 'refused');
    expect((await w.pending()).find((x) => x.seq === 90)).toMatchObject({
      attempts: 1,
      batch: 'b-9',
      lastError: 'refused',
    });
    await w.tickets.completeWork([{ ...old, attempts: 1, batch: 'b-9' }], AT);

    expect((await w.pending()).find((x) => x.seq === 90)).toBeUndefined();
    expect(await w.item(90)).toMatchObject({ type: 'ticket_work', state: 'done', doneAt: AT, attempts: 1 });
  });
});
