import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { chainEvents, verifyChain, type AuditEvent } from '@core/audit/chain';
import { createFinding } from '@core/finding/merge';
import { updateFinding } from '@core/finding/update';
import { findingWrite } from '@core/finding/write';
import { fixedClock } from '@core/shared/clock';
import { DynamoAuditTrail } from '@core/store/dynamo-audit-trail';
import { DynamoFindingStore } from '@core/store/dynamo-finding-store';
import { DynamoReportSource } from '@core/store/dynamo-report-source';
import { SingleTable, indexKeys, keys } from '@core/store/table';
import { aFreshStore } from '@test/support/dynamo';
import { eventItems } from '@test/support/event-items';
import { anObservation } from '@test/support/factories';

// On DynamoDB Local: what one write records is one item, and every reader sees the chain it always saw.
describe('audit events stored one page per write (DynamoDB Local)', () => {
  const T0 = '2026-11-01T09:00:00.000Z';

  async function aFindingWithTwoWrites() {
    const fresh = await aFreshStore();
    const table = new SingleTable(fresh.client, fresh.tableName);
    const { finding, events } = createFinding(anObservation(), new Date(T0), 'test');
    const chained = chainEvents(finding.id, { count: 0, lastHash: '0'.repeat(64) }, events);
    const last = chained[chained.length - 1]!;
    const created = { ...finding, eventCount: last.seq, lastEventHash: last.hash };
    await fresh.store.commit([findingWrite({ finding: created, expectedVersion: null, events: chained })]);
    // A decision-like write: four events by two actors, one write.
    await updateFinding(fresh.store, fixedClock('2026-11-02T10:00:00.000Z'), finding.id, (f) => ({
      finding: { ...f, owner: 'team-payments@example.com' },
      events: [
        { actor: 'closeloop:lifecycle', action: 'owner.assigned', to: 'team-payments@example.com' },
        { actor: 'closeloop:lifecycle', action: 'sla.started' },
        { actor: 'alice@example.com', action: 'evidence.recorded', reason: 'rotated by hand' },
        { actor: 'closeloop:lifecycle', action: 'decision.made', to: 'owner_fix' },
      ],
    }));
    return { ...fresh, table, id: finding.id, firstWrite: chained.length };
  }

  it('writes each write as one item, and the store, the trail and the reports read the same chain', async () => {
    const f = await aFindingWithTwoWrites();
    const items = await eventItems(f.client, f.tableName, `FINDING#${f.id}`);
    expect(items.map((i) => [i.type, i.first, i.last])).toEqual([
      ['events', 1, f.firstWrite],
      ['events', f.firstWrite + 1, f.firstWrite + 4],
    ]);
    const events = await f.store.events(f.id);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: f.firstWrite + 4 }, (_, i) => i + 1));
    const head = (await f.store.get(f.id))!;
    expect(verifyChain(events, { count: head.eventCount, lastHash: head.lastEventHash })).toEqual({
      ok: true,
      events: f.firstWrite + 4,
    });
    const source = new DynamoReportSource(f.table);
    expect((await source.trail(f.id)).events).toEqual(events);
  });

  it('reads a range of events that starts inside a page, exactly', async () => {
    const f = await aFindingWithTwoWrites();
    const trail = new DynamoAuditTrail(f.table);
    const from = f.firstWrite + 2;
    const range = await trail.events({ kind: 'finding', id: f.id }, { from, to: from + 1 });
    expect(range.map((e) => e.seq)).toEqual([from, from + 1]);
  });

  it("lists a period's events by actor: only that actor's events of a page", async () => {
    const f = await aFindingWithTwoWrites();
    const source = new DynamoReportSource(f.table);
    const byAlice = await source.eventsBetween(
      '2026-11-02T00:00:00.000Z',
      '2026-11-03T00:00:00.000Z',
      'alice@example.com',
    );
    expect(byAlice.map((e) => [e.actor, e.action])).toEqual([['alice@example.com', 'evidence.recorded']]);
    const all = await source.eventsBetween('2026-11-02T00:00:00.000Z', '2026-11-03T00:00:00.000Z');
    expect(all.map((e) => e.action)).toEqual(['owner.assigned', 'sla.started', 'evidence.recorded', 'decision.made']);
  });

  it("keeps a period's bounds exact when a page's events span seconds: the events before `from` are left out", async () => {
    const fresh = await aFreshStore();
    const { finding, events } = createFinding(anObservation(), new Date(T0), 'test');
    const chained = chainEvents(finding.id, { count: 0, lastHash: '0'.repeat(64) }, [
      ...events,
      { at: '2026-11-01T09:00:30.000Z', actor: 'closeloop:lifecycle', action: 'owner.assigned', to: 'x@example.com' },
    ]);
    const last = chained[chained.length - 1]!;
    await fresh.store.commit([
      findingWrite({
        finding: { ...finding, eventCount: last.seq, lastEventHash: last.hash },
        expectedVersion: null,
        events: chained,
      }),
    ]);
    expect((await eventItems(fresh.client, fresh.tableName, `FINDING#${finding.id}`)).length).toBe(1);
    const source = new DynamoReportSource(new SingleTable(fresh.client, fresh.tableName));
    const after = await source.eventsBetween('2026-11-01T09:00:10.000Z', '2026-11-01T10:00:00.000Z');
    expect(after.map((e) => e.action)).toEqual(['owner.assigned']);
    const before = await source.eventsBetween('2026-11-01T08:00:00.000Z', '2026-11-01T09:00:30.000Z');
    expect(before.map((e) => e.seq)).toEqual(chained.slice(0, -1).map((e) => e.seq));
  });

  it('reads and extends a chain an earlier version wrote one item per event, without migration', async () => {
    const fresh = await aFreshStore();
    const { finding, events } = createFinding(anObservation(), new Date(T0), 'test');
    const chained: AuditEvent[] = chainEvents(finding.id, { count: 0, lastHash: '0'.repeat(64) }, [
      ...events,
      { at: T0, actor: 'closeloop:lifecycle', action: 'lifecycle.started' },
    ]);
    const last = chained[chained.length - 1]!;
    // As an earlier version stored it: the finding, and each event as its own item.
    const created = findingWrite({
      finding: { ...finding, eventCount: last.seq, lastEventHash: last.hash },
      expectedVersion: null,
      events: chained,
    });
    await fresh.store.commit([{ ...created, events: [] }]);
    const table = new SingleTable(fresh.client, fresh.tableName);
    for (const event of created.events)
      await table.doc.send(
        new PutCommand({
          TableName: fresh.tableName,
          Item: { ...keys.findingEvent(finding.id, event.seq), type: 'event', ...event, ...indexKeys.event(event) },
        }),
      );
    await updateFinding(fresh.store, fixedClock('2026-11-02T10:00:00.000Z'), finding.id, (f) => ({
      finding: { ...f, owner: 'team-payments@example.com' },
      events: [{ actor: 'closeloop:lifecycle', action: 'owner.assigned', to: 'team-payments@example.com' }],
    }));
    const items = await eventItems(fresh.client, fresh.tableName, `FINDING#${finding.id}`);
    expect(items.map((i) => i.type)).toEqual([...created.events.map(() => 'event'), 'events']);
    const head = (await fresh.store.get(finding.id))!;
    expect(
      verifyChain(await fresh.store.events(finding.id), { count: head.eventCount, lastHash: head.lastEventHash }),
    ).toEqual({
      ok: true,
      events: created.events.length + 1,
    });
  });
});

// A creation's events ride in its head: its transaction guards one item, and its page follows it.
describe("a new finding's events in its head until its page is written (DynamoDB Local)", () => {
  const T0 = '2026-11-01T09:00:00.000Z';
  const DAY = { from: '2026-11-01T00:00:00.000Z', to: '2026-11-03T00:00:00.000Z' };

  function aCreation() {
    const { finding, events } = createFinding(anObservation(), new Date(T0), 'test');
    const chained = chainEvents(finding.id, { count: 0, lastHash: '0'.repeat(64) }, events);
    const last = chained[chained.length - 1]!;
    const created = { ...finding, eventCount: last.seq, lastEventHash: last.hash };
    return findingWrite({ finding: created, expectedVersion: null, events: chained });
  }

  /** What the table holds of a finding: its event items' first seqs, its head's own events' seqs, the chain's check. */
  async function stateOf(fresh: Awaited<ReturnType<typeof aFreshStore>>, id: string) {
    const table = new SingleTable(fresh.client, fresh.tableName);
    const pages = await eventItems(fresh.client, fresh.tableName, `FINDING#${id}`);
    const [head] = await table.batchGet([keys.finding(id)]);
    const finding = (await fresh.store.get(id))!;
    const events = await fresh.store.events(id);
    return {
      pages: pages.map((p) => p.first),
      inHead: ((head?.inlineEvents ?? []) as AuditEvent[]).map((e) => e.seq),
      chain: verifyChain(events, { count: finding.eventCount, lastHash: finding.lastEventHash }),
      trail: (await new DynamoAuditTrail(table).events({ kind: 'finding', id })).map((e) => e.seq),
      // As `audit verify` reads it: knowing the count, it reads the head only when the pages fall short.
      verified: (await new DynamoAuditTrail(table).events({ kind: 'finding', id, count: finding.eventCount })).map(
        (e) => e.seq,
      ),
      report: (await new DynamoReportSource(table).trail(id)).events.map((e) => e.seq),
      byDay: (await new DynamoReportSource(table).eventsBetween(DAY.from, DAY.to)).map((e) => e.action),
    };
  }

  it('guards one item per new finding, writes the page right after, and every reader sees the same chain', async () => {
    const fresh = await aFreshStore();
    const write = aCreation();
    const table = new SingleTable(fresh.client, fresh.tableName);
    const sent = jest.spyOn(table.doc, 'send');
    await new DynamoFindingStore(table).commit([write]);
    const transactions = sent.mock.calls
      .map(([command]) => command.input as { TransactItems?: unknown[] })
      .filter((input) => input.TransactItems);
    expect(transactions.map((t) => t.TransactItems!.length)).toEqual([1]);
    expect(await stateOf(fresh, write.finding.id)).toEqual({
      pages: [1],
      inHead: [1],
      chain: { ok: true, events: 1 },
      trail: [1],
      verified: [1],
      report: [1],
      byDay: ['finding.created'],
    });
    // Another process's next write finds the page there and writes it no second time.
    const other = new SingleTable(fresh.client, fresh.tableName);
    const otherSent = jest.spyOn(other.doc, 'send');
    await updateFinding(
      new DynamoFindingStore(other),
      fixedClock('2026-11-02T10:00:00.000Z'),
      write.finding.id,
      (f) => ({
        finding: { ...f, owner: 'team-payments@example.com' },
        events: [{ actor: 'closeloop:lifecycle', action: 'owner.assigned', to: 'team-payments@example.com' }],
      }),
    );
    expect(otherSent.mock.calls.filter(([command]) => command instanceof BatchWriteCommand)).toEqual([]);
    expect((await stateOf(fresh, write.finding.id)).pages).toEqual([1, 2]);
  });

  it('loses nothing when the process dies between the commit and the page: readers read the head, the next write pages it first', async () => {
    const fresh = await aFreshStore();
    const write = aCreation();
    const id = write.finding.id;
    const table = new SingleTable(fresh.client, fresh.tableName);
    const send = table.doc.send.bind(table.doc);
    jest
      .spyOn(table.doc, 'send')
      .mockImplementation(((command: object) =>
        command instanceof BatchWriteCommand
          ? Promise.reject(new Error('the process died'))
          : send(command as never)) as never);
    await expect(new DynamoFindingStore(table).commit([write])).rejects.toThrow('the process died');
    // Committed, its page never written: the chain is whole from the head; only the by-day listing waits.
    expect(await stateOf(fresh, id)).toEqual({
      pages: [],
      inHead: [1],
      chain: { ok: true, events: 1 },
      trail: [1],
      verified: [1],
      report: [1],
      byDay: [],
    });
    // The next write, by another process that knows nothing of it, writes the page before the head.
    const other = new DynamoFindingStore(new SingleTable(fresh.client, fresh.tableName));
    await updateFinding(other, fixedClock('2026-11-02T10:00:00.000Z'), id, (f) => ({
      finding: { ...f, owner: 'team-payments@example.com' },
      events: [{ actor: 'closeloop:lifecycle', action: 'owner.assigned', to: 'team-payments@example.com' }],
    }));
    expect(await stateOf(fresh, id)).toEqual({
      pages: [1, 2],
      inHead: [],
      chain: { ok: true, events: 2 },
      trail: [1, 2],
      verified: [1, 2],
      report: [1, 2],
      byDay: ['finding.created', 'owner.assigned'],
    });
  });
});
